// The seam between packaging and the recipe parser (internal): a recipe file in, the canonical
// recipe with its artifact list out.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"

namespace vqi::component::internal {

struct RecipeArtifact {
  std::string name;       // the file name the recipe's Uri ends in
  std::string uri;        // as written
  std::string unarchive;  // NONE or ZIP
  std::string field;      // where it is, e.g. "Manifests[0].Artifacts[1]"
};

struct LoadedRecipe {
  std::string name, version, publisher;
  Json recipe;                            // parsed, placeholders filled
  std::vector<RecipeArtifact> artifacts;  // unique by name
};

// Fills `vars` into `text`, parses it (`where` names the file; its extension picks JSON or
// YAML) and lists its artifacts. InvalidArgument naming the field for anything malformed.
Result<LoadedRecipe> LoadRecipe(const std::string& text, const std::string& where,
                                const std::map<std::string, std::string>& vars);

// Points every artifact named `name` at the blob: Uri `vqi://artifacts/<digest>/<name>`, Digest
// (lowercase hex) and Algorithm SHA-256; returns the new Uri. InvalidArgument if the recipe
// already states a different digest (hex or base64).
Result<std::string> SetArtifactDigest(Json& recipe, const std::string& name,
                                      const std::string& sha256_hex);

// The canonical text of a recipe: sorted keys, no whitespace.
Result<std::string> CanonicalRecipeJson(const Json& recipe);

}  // namespace vqi::component::internal
