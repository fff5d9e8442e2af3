// Glue between parsed recipes and the resolver (resolve.h).
#pragma once

#include <string_view>

#include "vqi/base/status.h"
#include "vqi/component/recipe.h"
#include "vqi/component/resolve.h"

namespace vqi::component {

// The resolver's view of one recipe: its version and dependencies (sorted by name, as the
// recipe model keeps them). InvalidArgument when the version does not parse.
Result<CatalogueVersion> CatalogueEntry(const Recipe& recipe);

// LookupAwsComponent as Resolve()'s PlatformLookup: provided AWS components are skipped,
// refused ones fail the resolution with the reason, other names resolve normally.
ProvidedStatus AwsPlatformLookup(std::string_view name);

}  // namespace vqi::component
