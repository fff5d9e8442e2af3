// VersionLess: semantic-version order for listing stored versions (semver.org §11).
#include <cstdint>
#include <optional>
#include <vector>

#include "vqi/component/store.h"

namespace vqi::component {
namespace {

struct Parsed {
  uint64_t core[3] = {0, 0, 0};
  std::vector<std::string> pre;  // empty: a release
};

std::optional<uint64_t> Number(const std::string& s) {
  if (s.empty() || s.size() > 18 || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == sep)
      out.emplace_back();
    else
      out.back().push_back(c);
  }
  return out;
}

std::optional<Parsed> Parse(std::string v) {
  if (auto plus = v.find('+'); plus != std::string::npos) v.resize(plus);
  Parsed p;
  std::string core = v;
  if (auto dash = v.find('-'); dash != std::string::npos) {
    core = v.substr(0, dash);
    p.pre = Split(v.substr(dash + 1), '.');
    for (const std::string& id : p.pre)
      if (id.empty()) return std::nullopt;
  }
  std::vector<std::string> parts = Split(core, '.');
  if (parts.size() != 3) return std::nullopt;
  for (int i = 0; i < 3; ++i) {
    auto n = Number(parts[i]);
    if (!n) return std::nullopt;
    p.core[i] = *n;
  }
  return p;
}

// -1, 0, 1 for two pre-release identifiers.
int CompareId(const std::string& a, const std::string& b) {
  auto na = Number(a), nb = Number(b);
  if (na && nb) return *na < *nb ? -1 : (*na > *nb ? 1 : 0);
  if (na) return -1;  // numeric identifiers sort before alphanumeric ones
  if (nb) return 1;
  return a < b ? -1 : (a > b ? 1 : 0);
}

}  // namespace

bool VersionLess(const std::string& a, const std::string& b) {
  auto pa = Parse(a), pb = Parse(b);
  if (!pa || !pb) {
    if (pa.has_value() != pb.has_value()) return pa.has_value();  // versions first
    return a < b;
  }
  for (int i = 0; i < 3; ++i)
    if (pa->core[i] != pb->core[i]) return pa->core[i] < pb->core[i];
  if (pa->pre.empty() != pb->pre.empty()) return !pa->pre.empty();  // 1.0.0-rc < 1.0.0
  for (size_t i = 0; i < std::min(pa->pre.size(), pb->pre.size()); ++i)
    if (int c = CompareId(pa->pre[i], pb->pre[i]); c != 0) return c < 0;
  if (pa->pre.size() != pb->pre.size()) return pa->pre.size() < pb->pre.size();
  return a < b;  // equal precedence (build metadata): a stable order by text
}

}  // namespace vqi::component
