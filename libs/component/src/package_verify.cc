// VerifyComponent: the stored signature over the rebuilt manifest, then every artifact blob.
#include "vqi/base/hash.h"
#include "vqi/component/package.h"

namespace vqi::component {

Result<signing::Manifest> RebuildManifest(const StoredComponent& c) {
  signing::Manifest m;
  m.component = c.name;
  m.version = c.version;
  m.publisher = c.publisher;
  m.key_id = c.key_id;
  auto recipe = ParseJson(c.recipe_json, "stored recipe of " + c.name + "@" + c.version);
  if (!recipe.ok())  // an edited row: not even JSON any more
    return DataLoss(recipe.status().message());
  m.recipe = std::move(*recipe);
  for (const StoredArtifact& a : c.artifacts)
    m.artifacts.push_back({a.name, a.uri, a.digest, a.size, a.unarchive});
  return m;
}

Status VerifyComponent(Store& store, const blob::BlobStore& blobs, const std::string& name,
                       const std::string& version, const signing::TrustedKeys& trusted) {
  VQI_ASSIGN_OR_RETURN(StoredComponent c, store.Get(name, version));
  VQI_ASSIGN_OR_RETURN(signing::Manifest m, RebuildManifest(c));
  auto hasher = [&blobs](const signing::ManifestArtifact& a) -> Result<std::string> {
    VQI_ASSIGN_OR_RETURN(bool exists, blobs.Exists(a.digest));
    VQI_ASSIGN_OR_RETURN(std::string path, blobs.Path(a.digest));
    if (!exists) return NotFound("no file " + path);
    return Sha256File(path);
  };
  return signing::Verify(m, c.signature, trusted, hasher)
      .WithContext("component " + name + "@" + version);
}

}  // namespace vqi::component
