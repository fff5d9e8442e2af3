// Versions: parsing, SemVer precedence, printing.
#include "vqi/component/semver.h"

#include <algorithm>
#include <cstdio>

#include "semver_internal.h"

namespace vqi::component {
namespace internal {

namespace {

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsIdentifierChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-';
}

}  // namespace

std::string Quote(std::string_view text) {
  constexpr size_t kShown = 80;
  std::string out = "'";
  for (size_t i = 0; i < text.size() && i < kShown; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (text.size() > kShown) out += "...";
  return out + "'";
}

std::string ParseNumber(std::string_view text, const char* name, uint64_t* out) {
  if (text.empty()) return std::string(name) + " is empty";
  if (!IsDigits(text)) return std::string(name) + " " + Quote(text) + " is not a number";
  if (text.size() > 1 && text[0] == '0') {
    return std::string(name) + " " + Quote(text) + " has a leading zero";
  }
  uint64_t value = 0;
  for (char c : text) {
    value = value * 10 + static_cast<uint64_t>(c - '0');
    if (value > kMaxVersionNumber) {
      return std::string(name) + " " + Quote(text) + " is larger than " +
             std::to_string(kMaxVersionNumber);
    }
  }
  *out = value;
  return "";
}

std::string ParseIdentifiers(std::string_view text, bool prerelease,
                             std::vector<std::string>* out) {
  const char* kind = prerelease ? "pre-release" : "build";
  std::vector<std::string> ids;
  size_t start = 0;
  while (true) {
    size_t dot = text.find('.', start);
    std::string_view id = text.substr(start, dot == std::string_view::npos ? dot : dot - start);
    if (id.empty()) return std::string("empty ") + kind + " identifier";
    if (!std::all_of(id.begin(), id.end(), IsIdentifierChar)) {
      return std::string(kind) + " identifier " + Quote(id) +
             " has a character other than 0-9, A-Z, a-z and '-'";
    }
    if (prerelease && IsDigits(id) && id.size() > 1 && id[0] == '0') {
      return std::string(kind) + " identifier " + Quote(id) + " has a leading zero";
    }
    ids.emplace_back(id);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  *out = std::move(ids);
  return "";
}

}  // namespace internal

namespace {

using internal::Quote;

// Numeric identifiers have no leading zeros, so a longer one is larger.
int CompareIdentifier(const std::string& a, const std::string& b) {
  bool an = std::all_of(a.begin(), a.end(), [](char c) { return c >= '0' && c <= '9'; });
  bool bn = std::all_of(b.begin(), b.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (an && bn) {
    if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
    return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
  }
  if (an != bn) return an ? -1 : 1;  // numeric identifiers sort below alphanumeric ones
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

int CompareNumber(uint64_t a, uint64_t b) { return a < b ? -1 : (a > b ? 1 : 0); }

std::string Join(const std::vector<std::string>& ids) {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? "." : "") + ids[i];
  return out;
}

}  // namespace

std::string Version::ToString() const {
  std::string out =
      std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  if (!prerelease.empty()) out += "-" + Join(prerelease);
  if (!build.empty()) out += "+" + Join(build);
  return out;
}

int Compare(const Version& a, const Version& b) {
  if (int c = CompareNumber(a.major, b.major)) return c;
  if (int c = CompareNumber(a.minor, b.minor)) return c;
  if (int c = CompareNumber(a.patch, b.patch)) return c;
  // A release has higher precedence than any of its pre-releases.
  if (a.prerelease.empty() && b.prerelease.empty()) return 0;
  if (a.prerelease.empty()) return 1;
  if (b.prerelease.empty()) return -1;
  size_t n = std::min(a.prerelease.size(), b.prerelease.size());
  for (size_t i = 0; i < n; ++i) {
    if (int c = CompareIdentifier(a.prerelease[i], b.prerelease[i])) return c;
  }
  return CompareNumber(a.prerelease.size(), b.prerelease.size());
}

Result<Version> ParseVersion(std::string_view text, std::string_view field) {
  const std::string where(field);
  if (text.size() > kMaxVersionLength) {
    return ResourceExhausted(where + ": version " + Quote(text) + " has " +
                             std::to_string(text.size()) +
                             " characters, more than the maximum of " +
                             std::to_string(kMaxVersionLength) + " (docs/limits.md)");
  }
  const std::string base =
      where + ": " + Quote(text) + " is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.2.0)";
  if (text.empty())
    return InvalidArgument(where +
                           ": empty; expected a semantic version "
                           "(MAJOR.MINOR.PATCH, e.g. 1.2.0)");
  Version v;
  std::string_view rest = text;
  if (size_t plus = rest.find('+'); plus != std::string_view::npos) {
    std::string err = internal::ParseIdentifiers(rest.substr(plus + 1), false, &v.build);
    if (!err.empty()) return InvalidArgument(base + ": " + err);
    rest = rest.substr(0, plus);
  }
  if (size_t dash = rest.find('-'); dash != std::string_view::npos) {
    std::string err = internal::ParseIdentifiers(rest.substr(dash + 1), true, &v.prerelease);
    if (!err.empty()) return InvalidArgument(base + ": " + err);
    rest = rest.substr(0, dash);
  }
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t dot = rest.find('.', start);
    parts.push_back(rest.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (parts.size() != 3) return InvalidArgument(base);
  const char* names[3] = {"MAJOR", "MINOR", "PATCH"};
  uint64_t* fields[3] = {&v.major, &v.minor, &v.patch};
  for (int i = 0; i < 3; ++i) {
    std::string err = internal::ParseNumber(parts[i], names[i], fields[i]);
    if (!err.empty()) return InvalidArgument(base + ": " + err);
  }
  return v;
}

}  // namespace vqi::component
