// Planning: from a deployment to the full target set, and from a set to what the engine runs
// (manifest, effective configuration, interpolated lifecycle, start order, what changed).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "vqi/agent/artifact_source.h"
#include "vqi/agent/deployment.h"
#include "vqi/agent/state.h"
#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/component/platform.h"
#include "vqi/component/recipe.h"

namespace vqi::agent {

// Greengrass's configuration update on top of `base` (the running configuration, or the
// defaults for a new component): each `reset` pointer is set back to its value in `defaults`
// (removed when the defaults have none; "" resets everything), then `merge` is applied as an
// RFC 7386 merge patch. InvalidArgument names `where` and the bad pointer.
Result<Json> ApplyConfigurationUpdate(const Json& defaults, const Json& base,
                                      const ConfigurationUpdate& update, std::string_view where);

// Local mode: the deployment's components are roots at their exact versions; their
// dependencies are resolved over `recipes` (component::Resolve). The result lists every
// component with an exact version; dependencies get no configuration update. Resolve's
// errors (NotFound for an unknown component or version, FailedPrecondition for an
// unsatisfiable range naming every requirer) are returned as they are.
Result<Deployment> ResolveLocal(const Deployment& roots,
                                const std::vector<component::Recipe>& recipes);

// The set a full deployment produces on a device whose current set is `current`: recipes
// from `source`, configuration per ApplyConfigurationUpdate.
Result<ComponentSet> TargetSet(const Deployment& full, const ComponentSet& current,
                               ArtifactSource& source);

struct PlanOptions {
  std::string root;  // absolute
  component::Platform platform = component::HostPlatform();
  std::string thing_name = "local";
  bool is_root = false;  // the agent runs as uid 0
};

struct PlannedComponent {
  std::string name, version;
  component::Recipe recipe;
  component::Manifest manifest;
  component::Lifecycle lifecycle;  // interpolated
  Json configuration = Json::object();
  std::vector<std::string> hard_dependencies;  // within the set
  std::string fingerprint;  // version + configuration + interpolated lifecycle + artifacts
  bool changed = true;      // differs from the running plan (or a HARD dependency does)
};

struct Plan {
  std::vector<PlannedComponent> components;  // start order: dependencies first, ties by name
  std::vector<std::string> removed;          // running components not in this set

  const PlannedComponent* Find(std::string_view name) const;
};

// Plans `set`, compared with `running` (null: everything changed). Refuses (before anything
// changes): a manifest for this platform missing (NotFound), `bootstrap` steps
// (Unimplemented), a changed component with `RequiresPrivilege` when not root
// (PermissionDenied), interpolation errors (InvalidArgument naming the field).
Result<Plan> BuildPlan(const ComponentSet& set, const PlanOptions& options, const Plan* running);

}  // namespace vqi::agent
