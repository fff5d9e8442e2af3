// The seam between packaging and the recipe library (internal): recipe text in, the canonical
// recipe with its artifact list (digests, sizes) out.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/blob/blob_store.h"
#include "vqi/component/artifacts.h"
#include "vqi/component/recipe.h"
#include "vqi/component/store.h"

namespace vqi::component::internal {

struct RecipeArtifact {
  std::string name;     // the file name the recipe's Uri ends in
  std::string uri;      // as written (placeholders filled)
  std::string field;    // where it is, e.g. "Manifests[0].Artifacts[1]"
  bool upload = false;  // s3:// or a bare name: needs an uploaded file of that name
  bool zip = false;     // Unarchive: ZIP (in some manifest)
};

struct LoadedRecipe {
  Recipe recipe;
  std::vector<RecipeArtifact> artifacts;  // one per file name, in recipe order
};

// FillPlaceholders(vars), ParseRecipe (`where` names the file), and the artifact list.
// InvalidArgument naming the field for anything malformed, for an https:// artifact (vqi signs
// only content it holds), and for one file name used by two different URIs.
Result<LoadedRecipe> LoadRecipe(const std::string& text, const std::string& where,
                                const std::map<std::string, std::string>& vars);

struct MappedRecipe {
  std::string recipe_json;                // RecipeToJson, no whitespace
  std::vector<StoredArtifact> artifacts;  // with digests and sizes
};

// MapArtifactUris(uploaded) (s3:// and bare names → vqi://artifacts/<sha256>/<file>), then the
// canonical JSON and the artifact list. vqi:// artifacts must already be in `blobs` (NotFound
// naming the artifact otherwise).
Result<MappedRecipe> MapRecipe(LoadedRecipe loaded,
                               const std::map<std::string, UploadedArtifact>& uploaded,
                               const blob::BlobStore& blobs);

}  // namespace vqi::component::internal
