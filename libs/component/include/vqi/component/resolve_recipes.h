// Resolution over parsed recipes: a Catalogue built from Recipe values, and the AWS public
// component table (aws_components.h) as the platform lookup.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/component/recipe.h"
#include "vqi/component/resolve.h"

namespace vqi::component {

// Each recipe is one version of its component; dependencies in ComponentDependencies order
// (by name). Thread-compatible.
class RecipeCatalogue : public Catalogue {
 public:
  // InvalidArgument for an invalid ComponentVersion or a second recipe of the same version
  // (same precedence) of the same component.
  Status Add(const Recipe& recipe);
  Result<std::vector<CatalogueVersion>> Versions(std::string_view name) const override;
  // The recipe added for `name` at `version`; null when none was.
  const Recipe* Find(std::string_view name, const Version& version) const;

 private:
  InMemoryCatalogue versions_;
  std::map<std::pair<std::string, std::string>, Recipe> recipes_;  // (name, version text)
};

// LookupAwsComponent as a PlatformLookup: provided and refused AWS public components.
PlatformLookup AwsPlatform();

// Resolve(RecipeCatalogue of `recipes`, roots, AwsPlatform(), limits); errors as Resolve's,
// plus Add's for the recipes.
Result<Resolution> Resolve(const std::vector<Recipe>& recipes,
                           const std::vector<RootRequirement>& roots,
                           const ResolveLimits& limits = {});

}  // namespace vqi::component
