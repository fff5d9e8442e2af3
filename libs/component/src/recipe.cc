// ParseRecipe / RecipeFromJson and the field checks shared with other parts of the library.
#include "vqi/component/recipe.h"

#include "decoder.h"
#include "recipe_text.h"
#include "vqi/component/limits.h"
#include "vqi/component/semver.h"

namespace vqi::component {

const char* DependencyTypeName(DependencyType type) {
  return type == DependencyType::kHard ? "HARD" : "SOFT";
}
const char* UnarchiveName(Unarchive u) { return u == Unarchive::kZip ? "ZIP" : "NONE"; }
const char* PermissionName(Permission p) {
  switch (p) {
    case Permission::kNone:
      return "NONE";
    case Permission::kOwner:
      return "OWNER";
    case Permission::kAll:
      return "ALL";
  }
  return "NONE";
}

Status ValidateVersionField(std::string_view version) {
  constexpr std::string_view kField = "ComponentVersion";
  auto v = ParseVersion(version, kField);
  if (v.ok()) return Status::Ok();
  std::string m = v.status().message().substr(kField.size() + 2);  // drop "ComponentVersion: "
  if (version.find_first_of("_{") != std::string_view::npos)
    m += "; placeholders such as COMPONENT_VERSION are filled by `vqi component create --var "
         "COMPONENT_VERSION=<version>`";
  return Status(v.status().code(), m);
}

Status ValidateComponentName(std::string_view name) {
  if (name.empty()) return InvalidArgument("the component name is empty");
  if (name.size() > kMaxComponentNameBytes)
    return InvalidArgument("the component name is longer than " +
                           std::to_string(kMaxComponentNameBytes) + " characters");
  if (name.find_first_not_of("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ._-") !=
          std::string_view::npos ||
      name[0] == '.')
    return InvalidArgument("'" + std::string(name) +
                           "' is not a component name (letters, digits, '.', '_', '-', not "
                           "starting with '.')");
  return Status::Ok();
}

Result<Recipe> ParseRecipe(std::string_view text, std::string_view origin) {
  VQI_ASSIGN_OR_RETURN(internal::Document doc, internal::LoadDocument(text, origin));
  internal::Decoder decoder(origin, &doc.lines);
  return decoder.Decode(doc.value);
}

Result<Recipe> RecipeFromJson(const Json& doc, std::string_view origin) {
  static const internal::LineMap kNoLines;
  if (JsonDepth(doc, kMaxRecipeDepth) > kMaxRecipeDepth)
    return ResourceExhausted(std::string(origin) + ": nested deeper than " +
                             std::to_string(kMaxRecipeDepth) + " levels (docs/limits.md)");
  internal::Decoder decoder(origin, &kNoLines);
  return decoder.Decode(doc);
}

Lifecycle EffectiveLifecycle(const Recipe& recipe, const Manifest& manifest) {
  if (manifest.lifecycle) return *manifest.lifecycle;
  Lifecycle out = recipe.lifecycle.value_or(Lifecycle{});
  const std::vector<std::string> all{"all"};
  for (const std::string& s : manifest.selections.empty() ? all : manifest.selections) {
    auto it = recipe.lifecycle_selections.find(s);
    if (it == recipe.lifecycle_selections.end()) continue;
    for (const auto& [k, v] : it->second.setenv) out.setenv[k] = v;
    for (const auto& [k, v] : it->second.steps) {
      out.steps[k] = v;
      // startup and run exclude each other: the later section's choice wins.
      if (k == "startup") out.steps.erase("run");
      if (k == "run") out.steps.erase("startup");
    }
  }
  return out;
}

}  // namespace vqi::component
