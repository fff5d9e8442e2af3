// Messages, install order, cycle and depth checks for the resolver.
#include <algorithm>
#include <map>
#include <set>

#include "resolve_internal.h"

namespace vqi::component::internal {
namespace {

constexpr size_t kMaxListedVersions = 20;
constexpr size_t kMaxListedChain = 8;

std::string Label(const Chosen& c) { return c.name + " " + c.version->version.ToString(); }

std::string Chain(const std::vector<std::string>& labels) {
  std::string out;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels.size() > kMaxListedChain && i == kMaxListedChain - 1) {
      out += " -> ... (" + std::to_string(labels.size() - kMaxListedChain) + " more)";
      i = labels.size() - 1;
    }
    out += (out.empty() ? "" : " -> ") + labels[i];
  }
  return out;
}

}  // namespace

std::string Requirers(const std::vector<Req>& reqs) {
  std::string out;
  for (const Req& r : reqs) {
    if (!out.empty()) out += "; ";
    out += r.requirement.requirer + " requires " + r.requirement.range;
    if (r.requirement.type == DependencyType::kSoft) out += " (SOFT)";
  }
  return out;
}

Status Conflict(const std::string& name, const std::vector<Req>& reqs,
                const std::vector<CatalogueVersion>& versions) {
  std::string available;
  // Lowest first; beyond kMaxListedVersions only the highest ones are listed.
  size_t shown = std::min(versions.size(), kMaxListedVersions);
  if (versions.size() > shown)
    available = "(" + std::to_string(versions.size() - shown) + " lower), ";
  for (size_t k = shown; k-- > 0;) {
    available += versions[k].version.ToString() + (k ? ", " : "");
  }
  if (versions.empty()) available = "none";
  return FailedPrecondition(name + ": no version satisfies every requirement: " + Requirers(reqs) +
                            "; available: " + available);
}

Result<Resolution> Finish(const std::vector<Chosen>& chosen, const ResolveLimits& limits) {
  Resolution out;
  std::map<std::string, const Chosen*> installed;
  for (const Chosen& c : chosen) {
    std::vector<Requirement> required_by;
    for (const Req& r : c.reqs) required_by.push_back(r.requirement);
    if (c.version) {
      installed[c.name] = &c;
    } else {
      out.provided.push_back(ProvidedComponent{c.name, c.provided_detail, std::move(required_by)});
    }
  }
  std::sort(out.provided.begin(), out.provided.end(),
            [](const ProvidedComponent& a, const ProvidedComponent& b) { return a.name < b.name; });

  // Kahn's algorithm over installed components; provided ones impose no order.
  std::map<std::string, std::set<std::string>> deps;  // name -> installed dependencies
  std::map<std::string, std::vector<std::string>> dependents;
  for (const auto& [name, c] : installed) {
    deps[name];
    for (const DependencySpec& d : c->version->dependencies) {
      if (installed.count(d.name) && deps[name].insert(d.name).second) {
        dependents[d.name].push_back(name);
      }
    }
  }
  std::map<std::string, size_t> waiting;
  std::set<std::string> ready;
  for (const auto& [name, ds] : deps) {
    waiting[name] = ds.size();
    if (ds.empty()) ready.insert(name);
  }
  std::vector<std::string> order;
  while (!ready.empty()) {
    std::string name = *ready.begin();
    ready.erase(ready.begin());
    order.push_back(name);
    for (const std::string& up : dependents[name]) {
      if (--waiting[up] == 0) ready.insert(up);
    }
  }
  if (order.size() < installed.size()) {
    // Every component left waits on another one left: walk from the smallest name to a repeat.
    std::set<std::string> left;
    for (const auto& [name, n] : waiting) {
      if (n > 0) left.insert(name);
    }
    std::vector<std::string> path{*left.begin()};
    while (true) {
      const std::string& at = path.back();
      std::string next = *std::find_if(deps[at].begin(), deps[at].end(),
                                       [&](const std::string& d) { return left.count(d) > 0; });
      auto seen = std::find(path.begin(), path.end(), next);
      if (seen != path.end()) {
        std::vector<std::string> labels;
        for (auto it = seen; it != path.end(); ++it) labels.push_back(Label(*installed[*it]));
        labels.push_back(Label(*installed[next]));
        return InvalidArgument("dependency cycle: " + Chain(labels));
      }
      path.push_back(next);
    }
  }

  // Longest chain, in components: dependencies come first in `order`.
  std::map<std::string, size_t> depth;
  std::map<std::string, std::string> below;
  std::string deepest;
  for (const std::string& name : order) {
    depth[name] = 1;
    for (const std::string& d : deps[name]) {
      if (depth[d] + 1 > depth[name]) {
        depth[name] = depth[d] + 1;
        below[name] = d;
      }
    }
    if (deepest.empty() || depth[name] > depth[deepest]) deepest = name;
  }
  if (!deepest.empty() && depth[deepest] > limits.max_depth) {
    std::vector<std::string> labels;
    for (std::string at = deepest;; at = below[at]) {
      labels.push_back(Label(*installed[at]));
      if (!below.count(at)) break;
    }
    return ResourceExhausted("a dependency chain of " + std::to_string(depth[deepest]) +
                             " components is longer than the maximum of " +
                             std::to_string(limits.max_depth) +
                             " (docs/limits.md): " + Chain(labels));
  }

  for (const std::string& name : order) {
    const Chosen& c = *installed[name];
    std::vector<Requirement> required_by;
    for (const Req& r : c.reqs) required_by.push_back(r.requirement);
    out.components.push_back(ResolvedComponent{c.name, c.version->version, c.version->dependencies,
                                               std::move(required_by)});
  }
  return out;
}

}  // namespace vqi::component::internal
