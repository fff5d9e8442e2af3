#include "recipe_text.h"

#include "vqi/component/limits.h"

namespace vqi::component::internal {

std::string JoinKey(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string out(parent);
  out += '.';
  out += key;
  return out;
}

std::string JoinIndex(std::string_view parent, size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

int LineOf(const LineMap& lines, std::string_view path) {
  while (!path.empty()) {
    if (auto it = lines.find(path); it != lines.end()) return it->second;
    const size_t cut = path.find_last_of(".[");
    if (cut == std::string_view::npos) break;
    path = path.substr(0, cut);
  }
  return 0;
}

std::string Where(std::string_view origin, int line, std::string_view path) {
  std::string out(origin);
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!path.empty()) {
    out += path;
    out += ": ";
  }
  return out;
}

Result<Document> LoadDocument(std::string_view text, std::string_view origin) {
  if (text.size() > kMaxRecipeBytes)
    return ResourceExhausted(Where(origin, 0, "") + "the recipe has " +
                             std::to_string(text.size()) + " bytes, more than the maximum of " +
                             std::to_string(kMaxRecipeBytes) + " (docs/limits.md)");
  if (text.find('\0') != std::string_view::npos)
    return InvalidArgument(Where(origin, 0, "") + "the recipe contains a NUL byte (not text)");
  std::string_view body = text;
  if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);  // UTF-8 byte order mark
  const size_t first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos)
    return InvalidArgument(Where(origin, 0, "") + "the recipe is empty");
  if (body[first] == '{') return LoadJson(body, origin);
  return LoadYaml(body, origin);
}

}  // namespace vqi::component::internal
