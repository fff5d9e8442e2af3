// Resolution over parsed recipes.
#include "vqi/component/resolve_recipes.h"

#include "vqi/component/aws_components.h"

namespace vqi::component {

Status RecipeCatalogue::Add(const Recipe& recipe) {
  VQI_ASSIGN_OR_RETURN(Version version,
                       ParseVersion(recipe.version, recipe.name + ": ComponentVersion"));
  CatalogueVersion cv{version, {}};
  for (const auto& [name, dep] : recipe.dependencies) {
    cv.dependencies.push_back(DependencySpec{name, dep.version_requirement, dep.type});
  }
  VQI_RETURN_IF_ERROR(versions_.Add(recipe.name, std::move(cv)));
  recipes_[{recipe.name, version.ToString()}] = recipe;
  return Status::Ok();
}

Result<std::vector<CatalogueVersion>> RecipeCatalogue::Versions(std::string_view name) const {
  return versions_.Versions(name);
}

const Recipe* RecipeCatalogue::Find(std::string_view name, const Version& version) const {
  auto it = recipes_.find({std::string(name), version.ToString()});
  return it == recipes_.end() ? nullptr : &it->second;
}

PlatformLookup AwsPlatform() {
  return [](std::string_view name) {
    const AwsComponent c = LookupAwsComponent(name);
    switch (c.support) {
      case AwsSupport::kProvided:
        return ProvidedStatus{Provision::kProvided, c.note};
      case AwsSupport::kRefused:
        return ProvidedStatus{Provision::kRefused, c.note};
      case AwsSupport::kNotAws:
        break;
    }
    return ProvidedStatus{};
  };
}

Result<Resolution> Resolve(const std::vector<Recipe>& recipes,
                           const std::vector<RootRequirement>& roots, const ResolveLimits& limits) {
  RecipeCatalogue catalogue;
  for (const Recipe& r : recipes) VQI_RETURN_IF_ERROR(catalogue.Add(r));
  return Resolve(catalogue, roots, AwsPlatform(), limits);
}

}  // namespace vqi::component
