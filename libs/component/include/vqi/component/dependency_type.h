// Greengrass's DependencyType, shared by the recipe model and the resolver.
#pragma once

namespace vqi::component {

// HARD restarts the dependent when the dependency changes state, SOFT does not. Both must
// resolve (docs/design/versions.md).
enum class DependencyType { kHard, kSoft };

}  // namespace vqi::component
