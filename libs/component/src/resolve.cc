// Dependency resolution: a bounded depth-first search with chronological backtracking over
// components in discovery order (docs/design/versions.md), then install order and the cycle
// and depth checks (resolve_order.cc).
#include "vqi/component/resolve.h"

#include <algorithm>
#include <optional>
#include <set>

#include "resolve_internal.h"

namespace vqi::component {

Status InMemoryCatalogue::Add(std::string name, CatalogueVersion version) {
  auto& list = versions_[name];
  for (const CatalogueVersion& v : list) {
    if (v.version == version.version) {
      return InvalidArgument(name + ": version " + version.version.ToString() +
                             " is already in the catalogue (as " + v.version.ToString() + ")");
    }
  }
  list.push_back(std::move(version));
  return Status::Ok();
}

Status InMemoryCatalogue::Add(std::string name, std::string_view version,
                              std::vector<DependencySpec> deps) {
  VQI_ASSIGN_OR_RETURN(Version v, ParseVersion(version, "ComponentVersion"));
  return Add(std::move(name), CatalogueVersion{std::move(v), std::move(deps)});
}

Result<std::vector<CatalogueVersion>> InMemoryCatalogue::Versions(std::string_view name) const {
  auto it = versions_.find(name);
  if (it == versions_.end()) return NotFound(std::string(name) + ": not in the catalogue");
  return it->second;
}

namespace {

using internal::Req;

// One component seen during the search: what the platform says, its versions (highest first)
// and the parsed ranges of each version's dependencies (filled when the version is tried).
struct Node {
  ProvidedStatus provided;
  bool unknown = false;
  std::vector<CatalogueVersion> versions;
  std::vector<std::optional<std::vector<Range>>> dep_ranges;
};

class Solver {
 public:
  Solver(const Catalogue& catalogue, const PlatformLookup& platform, const ResolveLimits& limits)
      : catalogue_(catalogue), platform_(platform), limits_(limits) {}

  Result<Resolution> Run(const std::vector<RootRequirement>& roots) {
    for (const RootRequirement& root : roots) {
      if (root.name.empty()) return InvalidArgument(root.requirer + ": empty component name");
      VQI_ASSIGN_OR_RETURN(Range range, ParseRange(root.range, root.requirer + ": " + root.name));
      reqs_[root.name].push_back(
          Req{{root.requirer, range.text, DependencyType::kHard}, std::move(range)});
      Discover(root.name);
    }
    if (order_.size() > limits_.max_components) return TooManyComponents();
    bool solved = Solve(0);
    if (!fatal_.ok()) return fatal_;
    if (!solved) {
      if (first_failure_.ok()) return Internal("resolution failed without a recorded cause");
      Status failure = first_failure_;
      if (backtracked_) {
        failure =
            Status(failure.code(), failure.message() + " (no other combination works either: " +
                                       std::to_string(trials_) + " versions tried)");
      }
      return failure;
    }
    return internal::Finish(Chosen(), limits_);
  }

 private:
  void Discover(const std::string& name) {
    if (in_order_.insert(name).second) order_.push_back(name);
  }

  Status TooManyComponents() const {
    return ResourceExhausted("the resolution needs more than " +
                             std::to_string(limits_.max_components) +
                             " components (the maximum, docs/limits.md)");
  }

  // Records the first failure met in search order; that is the one reported.
  void Fail(Status status) {
    if (first_failure_.ok()) first_failure_ = std::move(status);
  }

  Result<Node*> Load(const std::string& name) {
    auto it = nodes_.find(name);
    if (it != nodes_.end()) return &it->second;
    Node node;
    if (platform_) node.provided = platform_(name);
    if (node.provided.provision == Provision::kNotProvided) {
      auto versions = catalogue_.Versions(name);
      if (!versions.ok() && versions.status().code() != StatusCode::kNotFound) {
        return versions.status();
      }
      node.unknown = !versions.ok();
      if (versions.ok()) node.versions = std::move(versions).value();
      std::sort(node.versions.begin(), node.versions.end(),
                [](const CatalogueVersion& a, const CatalogueVersion& b) {
                  return a.version > b.version;
                });
      for (size_t i = 1; i < node.versions.size(); ++i) {
        if (node.versions[i - 1].version == node.versions[i].version) {
          return InvalidArgument(name +
                                 ": the catalogue has two versions with the same "
                                 "precedence: " +
                                 node.versions[i - 1].version.ToString() + " and " +
                                 node.versions[i].version.ToString());
        }
      }
      node.dep_ranges.resize(node.versions.size());
    }
    return &nodes_.emplace(name, std::move(node)).first->second;
  }

  Result<const std::vector<Range>*> DependencyRanges(const std::string& name, Node& node,
                                                     size_t index) {
    auto& slot = node.dep_ranges[index];
    if (!slot) {
      const CatalogueVersion& cv = node.versions[index];
      std::vector<Range> ranges;
      for (const DependencySpec& dep : cv.dependencies) {
        VQI_ASSIGN_OR_RETURN(Range r, ParseRange(dep.range, name + " " + cv.version.ToString() +
                                                                ": ComponentDependencies." +
                                                                dep.name + ".VersionRequirement"));
        ranges.push_back(std::move(r));
      }
      slot = std::move(ranges);
    }
    return &*slot;
  }

  bool SatisfiesAll(const Version& v, const std::vector<Req>& reqs) const {
    return std::all_of(reqs.begin(), reqs.end(),
                       [&](const Req& r) { return Satisfies(v, r.range); });
  }

  // Tries every candidate of order_[i], highest first; true when the rest of the order
  // resolved too. Leaves reqs_/order_/chosen_ as found when it returns false.
  bool Solve(size_t i) {
    if (i == order_.size()) return true;
    const std::string name = order_[i];
    auto loaded = Load(name);
    if (!loaded.ok()) {
      fatal_ = loaded.status();
      return false;
    }
    Node& node = **loaded;
    const std::vector<Req>& reqs = reqs_[name];
    if (node.provided.provision == Provision::kProvided) {
      chosen_[name] = -1;
      if (Solve(i + 1)) return true;
      chosen_.erase(name);
      return false;
    }
    if (node.provided.provision == Provision::kRefused) {
      Fail(FailedPrecondition(name + ": not supported by vqi-agent: " + node.provided.detail + "; " +
                           internal::Requirers(reqs)));
      return false;
    }
    if (node.unknown) {
      Fail(NotFound(name +
                    ": no such component (not in the catalogue, not provided by "
                    "vqi-agent); " +
                    internal::Requirers(reqs)));
      return false;
    }
    std::vector<size_t> candidates;
    for (size_t k = 0; k < node.versions.size(); ++k) {
      if (SatisfiesAll(node.versions[k].version, reqs)) candidates.push_back(k);
    }
    if (candidates.empty()) {
      Fail(internal::Conflict(name, reqs, node.versions));
      return false;
    }
    for (size_t n = 0; n < candidates.size(); ++n) {
      if (n > 0) backtracked_ = true;
      if (++trials_ > limits_.max_trials) {
        fatal_ =
            ResourceExhausted("resolution tried more than " + std::to_string(limits_.max_trials) +
                              " candidate versions without a solution (the maximum, "
                              "docs/limits.md); pin versions in the deployment to narrow it");
        return false;
      }
      if (Try(i, name, node, candidates[n])) return true;
      if (!fatal_.ok()) return false;
    }
    return false;
  }

  bool Try(size_t i, const std::string& name, Node& node, size_t index) {
    auto ranges = DependencyRanges(name, node, index);
    if (!ranges.ok()) {
      fatal_ = ranges.status();
      return false;
    }
    const CatalogueVersion& cv = node.versions[index];
    const std::string label = name + " " + cv.version.ToString();
    chosen_[name] = static_cast<int>(index);
    const size_t order_mark = order_.size();
    for (size_t d = 0; d < cv.dependencies.size(); ++d) {
      const DependencySpec& dep = cv.dependencies[d];
      reqs_[dep.name].push_back(Req{{label, (**ranges)[d].text, dep.type}, (**ranges)[d]});
      Discover(dep.name);
    }
    bool ok = true;
    if (order_.size() > limits_.max_components) {
      fatal_ = TooManyComponents();
      ok = false;
    }
    // A dependency chosen earlier must satisfy the new requirement, or this version fails.
    for (size_t d = 0; ok && d < cv.dependencies.size(); ++d) {
      auto it = chosen_.find(cv.dependencies[d].name);
      if (it == chosen_.end() || it->second < 0) continue;
      const Node& dep_node = nodes_.at(it->first);
      if (!Satisfies(dep_node.versions[it->second].version, (**ranges)[d])) {
        Fail(internal::Conflict(it->first, reqs_[it->first], dep_node.versions));
        ok = false;
      }
    }
    if (ok && Solve(i + 1)) return true;
    for (size_t d = cv.dependencies.size(); d-- > 0;) reqs_[cv.dependencies[d].name].pop_back();
    for (size_t k = order_mark; k < order_.size(); ++k) in_order_.erase(order_[k]);
    order_.resize(order_mark);
    chosen_.erase(name);
    return false;
  }

  std::vector<internal::Chosen> Chosen() const {
    std::vector<internal::Chosen> out;
    for (const std::string& name : order_) {
      const Node& node = nodes_.at(name);
      int index = chosen_.at(name);
      internal::Chosen c{name, index < 0 ? nullptr : &node.versions[index], node.provided.detail,
                         reqs_.at(name)};
      out.push_back(std::move(c));
    }
    return out;
  }

  const Catalogue& catalogue_;
  const PlatformLookup& platform_;
  const ResolveLimits limits_;
  std::map<std::string, Node, std::less<>> nodes_;
  std::map<std::string, std::vector<Req>> reqs_;  // requirements on each component, in order
  std::map<std::string, int> chosen_;             // version index, -1 when provided
  std::vector<std::string> order_;                // discovery order
  std::set<std::string> in_order_;
  size_t trials_ = 0;
  bool backtracked_ = false;
  Status first_failure_;
  Status fatal_;
};

}  // namespace

Result<Resolution> Resolve(const Catalogue& catalogue, const std::vector<RootRequirement>& roots,
                           const PlatformLookup& platform, const ResolveLimits& limits) {
  Solver solver(catalogue, platform, limits);
  return solver.Run(roots);
}

}  // namespace vqi::component
