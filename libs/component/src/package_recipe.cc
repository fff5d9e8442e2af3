// The recipe seam for packaging: placeholders, parse, artifact list, URIs mapped to blobs.
#include "package_recipe.h"

#include <sys/stat.h>

#include "vqi/component/placeholders.h"

namespace vqi::component::internal {
namespace {

std::string Field(size_t m, size_t a) {
  return "Manifests[" + std::to_string(m) + "].Artifacts[" + std::to_string(a) + "]";
}

bool IsContentUri(const std::string& uri) { return uri.rfind(kContentUriPrefix, 0) == 0; }

}  // namespace

Result<LoadedRecipe> LoadRecipe(const std::string& text, const std::string& where,
                                const std::map<std::string, std::string>& vars) {
  auto filled = FillPlaceholders(text, vars);
  if (!filled.ok()) return filled.status().WithContext(where);
  LoadedRecipe out;
  VQI_ASSIGN_OR_RETURN(out.recipe, ParseRecipe(*filled, where));
  std::map<std::string, std::string> seen;  // file name -> uri
  for (size_t m = 0; m < out.recipe.manifests.size(); ++m) {
    const auto& arts = out.recipe.manifests[m].artifacts;
    for (size_t a = 0; a < arts.size(); ++a) {
      const std::string field = where + ": " + Field(m, a);
      auto name = ArtifactFileName(arts[a].uri);
      if (!name.ok()) return InvalidArgument(field + ".Uri: " + name.status().message());
      const bool s3 = arts[a].uri.rfind("s3://", 0) == 0;
      const bool bare = arts[a].uri.find(':') == std::string::npos;
      if (!s3 && !bare && !IsContentUri(arts[a].uri))
        return InvalidArgument(field + ".Uri: '" + arts[a].uri +
                               "': vqi signs only artifacts it stores; download the file and "
                               "give it with --artifact (URI s3://<bucket>/.../" +
                               *name + " or just " + *name + ")");
      const bool zip = arts[a].unarchive == Unarchive::kZip;
      auto [it, inserted] = seen.emplace(*name, arts[a].uri);
      if (!inserted) {
        if (it->second != arts[a].uri)
          return InvalidArgument(field + ".Uri: '" + arts[a].uri + "' and '" + it->second +
                                 "' both end in the file name '" + *name +
                                 "'; a component's artifacts share one folder on the device");
        for (RecipeArtifact& prev : out.artifacts)
          if (prev.name == *name) prev.zip = prev.zip || zip;
        continue;
      }
      out.artifacts.push_back({*name, arts[a].uri, field, s3 || bare, zip});
    }
  }
  return out;
}

Result<MappedRecipe> MapRecipe(LoadedRecipe loaded,
                               const std::map<std::string, UploadedArtifact>& uploaded,
                               const blob::BlobStore& blobs) {
  VQI_RETURN_IF_ERROR(MapArtifactUris(&loaded.recipe, uploaded));
  MappedRecipe out;
  std::map<std::string, std::string> digests;  // file name -> digest
  for (size_t m = 0; m < loaded.recipe.manifests.size(); ++m) {
    const auto& arts = loaded.recipe.manifests[m].artifacts;
    for (size_t a = 0; a < arts.size(); ++a) {
      VQI_ASSIGN_OR_RETURN(std::string name, ArtifactFileName(arts[a].uri));
      if (auto [it, inserted] = digests.emplace(name, arts[a].digest); !inserted) {
        if (it->second != arts[a].digest)
          return InvalidArgument(Field(m, a) + ": artifact '" + name +
                                 "' has two different digests in one component");
        continue;
      }
      StoredArtifact s{name, arts[a].uri, arts[a].digest, 0, UnarchiveName(arts[a].unarchive)};
      if (auto up = uploaded.find(name); up != uploaded.end() && up->second.digest == s.digest) {
        s.size = up->second.size;
      } else {  // a vqi:// artifact already in the blob store
        VQI_ASSIGN_OR_RETURN(bool exists, blobs.Exists(s.digest));
        VQI_ASSIGN_OR_RETURN(std::string path, blobs.Path(s.digest));
        struct stat st {};
        if (!exists || ::stat(path.c_str(), &st) != 0)
          return NotFound(Field(m, a) + ".Uri: '" + s.uri + "': blob " + s.digest + " is not in " +
                          blobs.dir());
        s.size = st.st_size;
      }
      out.artifacts.push_back(std::move(s));
    }
  }
  try {
    out.recipe_json =
        RecipeToJson(loaded.recipe).dump(-1, ' ', false, Json::error_handler_t::strict);
  } catch (const Json::exception& e) {
    return InvalidArgument(std::string("recipe: cannot be written as JSON: ") + e.what());
  }
  return out;
}

}  // namespace vqi::component::internal
