// Untrusted text quoted in error messages: printable ASCII only (anything else becomes '?'),
// at most `max` bytes, so a message is always valid UTF-8 (JSON errors) and never carries
// terminal escapes.
#pragma once

#include <string>
#include <string_view>

namespace vqi::registry {

inline std::string Show(std::string_view s, size_t max = 200) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (s.size() > max) out += "...";
  return out;
}

}  // namespace vqi::registry
