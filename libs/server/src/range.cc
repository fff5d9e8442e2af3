#include "vqi/server/range.h"

#include <charconv>

namespace vqi::server {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A non-empty run of decimal digits that fits uint64; false otherwise.
bool ParseU64(std::string_view s, uint64_t* v) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), *v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

}  // namespace

ByteRange ParseRange(std::string_view header, uint64_t size) {
  ByteRange whole;
  std::string_view h = Trim(header);
  constexpr std::string_view kUnit = "bytes=";
  if (h.size() < kUnit.size()) return whole;
  for (size_t i = 0; i < kUnit.size(); ++i)  // the unit is case-insensitive
    if ((h[i] | 0x20) != kUnit[i] && h[i] != kUnit[i]) return whole;
  std::string_view spec = Trim(h.substr(kUnit.size()));
  if (spec.find(',') != std::string_view::npos) return whole;  // several ranges: ignored
  const size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return whole;
  const std::string_view first = Trim(spec.substr(0, dash));
  const std::string_view last = Trim(spec.substr(dash + 1));

  ByteRange r;
  r.kind = ByteRange::Kind::kPartial;
  if (first.empty()) {  // suffix: the last N bytes
    uint64_t n = 0;
    if (!ParseU64(last, &n)) return whole;
    if (n == 0 || size == 0) return {ByteRange::Kind::kUnsatisfiable, 0, 0};
    if (n > size) n = size;
    r.offset = size - n;
    r.length = n;
    return r;
  }
  uint64_t a = 0;
  if (!ParseU64(first, &a)) return whole;
  uint64_t b = 0;
  if (last.empty()) {
    b = size == 0 ? 0 : size - 1;
  } else {
    if (!ParseU64(last, &b)) return whole;
    if (b < a) return whole;  // invalid range-spec: the header is ignored (RFC 9110 §14.1.1)
  }
  if (a >= size) return {ByteRange::Kind::kUnsatisfiable, 0, 0};
  if (b >= size) b = size - 1;
  r.offset = a;
  r.length = b - a + 1;
  return r;
}

std::string ContentRange(const ByteRange& range, uint64_t size) {
  if (range.kind == ByteRange::Kind::kUnsatisfiable) return "bytes */" + std::to_string(size);
  return "bytes " + std::to_string(range.offset) + "-" +
         std::to_string(range.offset + range.length - 1) + "/" + std::to_string(size);
}

}  // namespace vqi::server
