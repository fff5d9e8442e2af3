#include "recipe_text.h"

#include "vqi/component/limits.h"

namespace vqi::component::internal {
namespace {

// The offset of the first byte that is not part of strict UTF-8 (RFC 3629: no overlong forms,
// no surrogates, at most U+10FFFF), or npos.
size_t InvalidUtf8At(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    unsigned lo = 0x80, hi = 0xBF;
    if (c < 0x80)
      n = 0;
    else if (c >= 0xC2 && c <= 0xDF)
      n = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (n > 0 && i + n >= s.size()) return i;
    for (size_t k = 1; k <= n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return i;
    }
    i += n + 1;
  }
  return std::string_view::npos;
}

}  // namespace

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
  if (const size_t bad = InvalidUtf8At(text); bad != std::string_view::npos) {
    int line = 1;
    for (size_t i = 0; i < bad; ++i) line += text[i] == '\n';
    return InvalidArgument(Where(origin, line, "") + "the recipe is not UTF-8 text (byte " +
                           std::to_string(bad) + ")");
  }
  std::string_view body = text;
  if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);  // UTF-8 byte order mark
  const size_t first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos)
    return InvalidArgument(Where(origin, 0, "") + "the recipe is empty");
  if (body[first] == '{') return LoadJson(body, origin);
  return LoadYaml(body, origin);
}

}  // namespace vqi::component::internal
