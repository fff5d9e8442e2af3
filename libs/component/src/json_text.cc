// JSON recipe text: libs/base ParseJson (depth-limited), then one linear scan over the valid
// text for the line of each key and array element and for exact duplicate keys (nlohmann
// keeps the last of two equal keys silently).
#include <charconv>
#include <set>
#include <vector>

#include "recipe_text.h"
#include "vqi/component/limits.h"

namespace vqi::component::internal {
namespace {

int LineAtByte(std::string_view text, size_t byte) {
  int line = 1;
  for (size_t i = 0; i < byte && i < text.size(); ++i) line += text[i] == '\n';
  return line;
}

// ParseJson says "<where>: malformed JSON at byte N: ..."; put the line after the origin.
Status WithLine(const Status& st, std::string_view text, std::string_view origin) {
  const std::string& m = st.message();
  const std::string prefix = std::string(origin) + ": ";
  const size_t at = m.find(" at byte ");
  if (at == std::string::npos || m.compare(0, prefix.size(), prefix) != 0) return st;
  size_t byte = 0;
  const char* first = m.data() + at + 9;
  std::from_chars(first, m.data() + m.size(), byte);
  // nlohmann counts bytes from 1 and reports the byte after the offending token.
  const int line = LineAtByte(text, byte > 0 ? byte - 1 : 0);
  return Status(st.code(), Where(origin, line, "") + m.substr(prefix.size()));
}

struct Frame {
  bool array = false;
  std::string path;
  size_t index = 0;
  bool expect_key = true;
  std::string last_key;
  std::set<std::string> keys;
};

}  // namespace

Result<Document> LoadJson(std::string_view text, std::string_view origin) {
  auto parsed = ParseJson(text, std::string(origin), kMaxRecipeDepth);
  if (!parsed.ok()) return WithLine(parsed.status(), text, origin);
  Document doc{std::move(parsed).value(), {}};

  std::vector<Frame> stack;
  int line = 1;
  auto child_path = [&]() -> std::string {
    if (stack.empty()) return "";
    const Frame& f = stack.back();
    return f.array ? JoinIndex(f.path, f.index) : JoinKey(f.path, f.last_key);
  };
  auto value_start = [&]() {
    if (!stack.empty() && stack.back().array) doc.lines[child_path()] = line;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
    } else if (c == ' ' || c == '\t' || c == '\r' || c == ':') {
    } else if (c == '"') {
      const size_t start = i;
      for (++i; i < text.size() && text[i] != '"'; ++i)
        if (text[i] == '\\') ++i;
      if (!stack.empty() && !stack.back().array && stack.back().expect_key) {
        Frame& f = stack.back();
        std::string_view raw = text.substr(start, i - start + 1);
        std::string key(raw.substr(1, raw.size() - 2));
        if (key.find('\\') != std::string::npos) {
          try {
            key = Json::parse(raw).get<std::string>();
          } catch (const Json::exception&) {  // cannot happen: the text parsed above
          }
        }
        const std::string path = JoinKey(f.path, key);
        if (!f.keys.insert(key).second)
          return InvalidArgument(Where(origin, line, path) + "duplicate key '" + key + "'");
        doc.lines[path] = line;
        f.last_key = key;
        f.expect_key = false;
      } else {
        value_start();
      }
    } else if (c == '{' || c == '[') {
      value_start();
      Frame f;
      f.array = c == '[';
      f.path = child_path();
      stack.push_back(std::move(f));
    } else if (c == '}' || c == ']') {
      if (!stack.empty()) stack.pop_back();
    } else if (c == ',') {
      if (!stack.empty()) {
        if (stack.back().array)
          ++stack.back().index;
        else
          stack.back().expect_key = true;
      }
    } else {  // number, true, false, null
      value_start();
      while (i + 1 < text.size() &&
             std::string_view(",]} \t\r\n").find(text[i + 1]) == std::string_view::npos)
        ++i;
    }
  }
  return doc;
}

}  // namespace vqi::component::internal
