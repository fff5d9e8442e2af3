#include "vqi/component/recipe_catalogue.h"

#include "vqi/component/aws_components.h"

namespace vqi::component {

Result<CatalogueVersion> CatalogueEntry(const Recipe& recipe) {
  CatalogueVersion out;
  VQI_ASSIGN_OR_RETURN(out.version,
                       ParseVersion(recipe.version, recipe.name + ": ComponentVersion"));
  for (const auto& [name, dep] : recipe.dependencies)
    out.dependencies.push_back({name, dep.version_requirement, dep.type});
  return out;
}

ProvidedStatus AwsPlatformLookup(std::string_view name) {
  const AwsComponent c = LookupAwsComponent(name);
  switch (c.support) {
    case AwsSupport::kProvided:
      return {Provision::kProvided, c.note};
    case AwsSupport::kRefused:
      return {Provision::kRefused, c.note};
    case AwsSupport::kNotAws:
      break;
  }
  return {};
}

}  // namespace vqi::component
