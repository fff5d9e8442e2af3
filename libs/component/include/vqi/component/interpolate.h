// Greengrass recipe variables in lifecycle scripts and environment values
// (docs/design/component.md, "Recipe variables").
//
// A variable is `{namespace:key}` or `{component:namespace:key}` with no whitespace inside and
// not preceded by `$` (so shell `${VAR:-x}` is left alone). Namespaces: artifacts (path,
// decompressedPath), work (path), kernel (rootPath), iot (thingName), configuration (a JSON
// pointer). The component form is allowed for direct dependencies only, as in Greengrass.
// Anything else that looks like a variable is InvalidArgument naming it and the field.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/component/recipe.h"

namespace vqi::component {

// One component's folders and configuration as its scripts see them.
struct ComponentContext {
  std::string artifacts_path;           // {artifacts:path}
  std::string decompressed_path;        // {artifacts:decompressedPath}
  std::string work_path;                // {work:path}
  Json configuration = Json::object();  // {configuration:/pointer}: the effective configuration
};

// The Greengrass layout under `root` (the kernel root path):
//   <root>/packages/artifacts/<name>/<version>
//   <root>/packages/artifacts-unarchived/<name>/<version>
//   <root>/work/<name>
// `configuration` is left empty for the caller to fill.
ComponentContext GreengrassLayout(std::string_view root, std::string_view name,
                                  std::string_view version);

// Where a ZIP artifact `file_name` unpacks: `<decompressed_path>/<file name without .zip>`.
std::string UnarchivedDir(const ComponentContext& c, std::string_view file_name);

struct InterpolationContext {
  std::string component_name;  // the component whose recipe is interpolated
  ComponentContext self;
  std::map<std::string, ComponentContext> dependencies;  // direct dependencies, by name
  std::string kernel_root_path;                          // {kernel:rootPath}
  std::string thing_name;                                // {iot:thingName}
};

// `text` with every variable replaced. `field` (e.g. "Manifests[0].Lifecycle.install.Script")
// is named in errors. Configuration strings are inserted as they are, other JSON values
// serialized. Errors: InvalidArgument (unknown variable/namespace/key, not a direct dependency,
// configuration pointer malformed or absent), FailedPrecondition ({iot:thingName} with no thing
// name), ResourceExhausted (result above kMaxInterpolatedBytes).
Result<std::string> Interpolate(std::string_view text, const InterpolationContext& context,
                                std::string_view field);

// Every script, Skipif and environment value of `lifecycle`; `field` is its path
// (e.g. "Manifests[0].Lifecycle").
Result<Lifecycle> InterpolateLifecycle(const Lifecycle& lifecycle,
                                       const InterpolationContext& context, std::string_view field);

}  // namespace vqi::component
