// Dependency resolution: which version of every component a device installs, given several
// root requirements (one per deployment, group or command line) and a catalogue of available
// versions with their dependencies. Algorithm, failure cases and complexity:
// docs/design/versions.md; limits: docs/limits.md ("Versions and resolution").
//
// Thread-compatible; Resolve() calls the catalogue and the platform lookup from the calling
// thread only.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/component/dependency_type.h"
#include "vqi/component/semver.h"

namespace vqi::component {

struct DependencySpec {
  std::string name;
  std::string range;  // VersionRequirement as written
  DependencyType type = DependencyType::kHard;
};

struct CatalogueVersion {
  Version version;
  std::vector<DependencySpec> dependencies;  // in recipe order
};

// Where resolution reads available versions. Implementations: the component store, a test map.
class Catalogue {
 public:
  virtual ~Catalogue() = default;
  // Every available version of `name`, in any order. NotFound when no version of `name` is
  // known; any other error aborts the resolution and is returned as is.
  virtual Result<std::vector<CatalogueVersion>> Versions(std::string_view name) const = 0;
};

// A catalogue held in memory (tests, and the recipes given on one command line).
class InMemoryCatalogue : public Catalogue {
 public:
  // Adds one version. InvalidArgument when `version` is already present with the same
  // precedence (e.g. 1.0.0+a and 1.0.0+b).
  Status Add(std::string name, CatalogueVersion version);
  // Convenience for tests: parses `version` ("ComponentVersion" in errors).
  Status Add(std::string name, std::string_view version, std::vector<DependencySpec> deps = {});
  Result<std::vector<CatalogueVersion>> Versions(std::string_view name) const override;

 private:
  std::map<std::string, std::vector<CatalogueVersion>, std::less<>> versions_;
};

// What the platform (vqi-agent) does with a component name, e.g. an AWS public component.
enum class Provision { kNotProvided, kProvided, kRefused };
struct ProvidedStatus {
  Provision provision = Provision::kNotProvided;
  std::string detail;  // what provides it (kProvided) or why it is refused (kRefused)
};
using PlatformLookup = std::function<ProvidedStatus(std::string_view name)>;

struct RootRequirement {
  std::string name;
  std::string range;     // a range or an exact version, npm syntax
  std::string requirer;  // who asks, for messages: "deployment thing-7"
};

// One requirement placed on a component, kept in the result and quoted in errors.
struct Requirement {
  std::string requirer;  // "deployment thing-7" or "com.example.Inference 1.0.0"
  std::string range;     // as written
  DependencyType type = DependencyType::kHard;
};

struct ResolvedComponent {
  std::string name;
  Version version;
  std::vector<DependencySpec> dependencies;  // of the chosen version
  std::vector<Requirement> required_by;      // roots first, then dependents, in search order
};

struct ProvidedComponent {
  std::string name;
  std::string detail;
  std::vector<Requirement> required_by;
};

struct Resolution {
  std::vector<ResolvedComponent> components;  // install order: dependencies first, ties by name
  std::vector<ProvidedComponent> provided;    // by name; not installed
};

struct ResolveLimits {
  size_t max_components = 512;  // distinct components in one resolution, provided ones included
  size_t max_depth = 32;        // components on the longest dependency chain
  size_t max_trials = 100000;   // candidate versions tried, over all backtracking
};

// Chooses one version per component reachable from `roots`: each the highest that satisfies
// every requirement placed on it and still allows a solution (earlier components preferred).
// `platform` may be empty (nothing provided); it is asked before the catalogue. Errors
// (FailedPrecondition for a conflict naming every requirer with its range and the available
// versions, and for a component the platform refuses; NotFound for an unknown component naming
// its requirers; InvalidArgument for an invalid range or a cycle; ResourceExhausted for a
// limit): docs/design/versions.md.
Result<Resolution> Resolve(const Catalogue& catalogue, const std::vector<RootRequirement>& roots,
                           const PlatformLookup& platform = {}, const ResolveLimits& limits = {});

}  // namespace vqi::component
