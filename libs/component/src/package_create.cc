// CreateComponent and SignAndStore: recipe + artifact files → signed, stored component.
#include <filesystem>
#include <set>

#include "package_recipe.h"
#include "vqi/base/file.h"
#include "vqi/component/limits.h"
#include "vqi/component/package.h"
#include "vqi/component/zip.h"
#include "vqi/registry/artifacts.h"

namespace vqi::component {
namespace {

std::string BaseName(const std::string& path) {
  return std::filesystem::path(path).filename().string();
}

}  // namespace

Result<PutOutcome> SignAndStore(const PackageEnv& env, const PreparedComponent& p,
                                const std::string& key_name) {
  signing::Manifest m;
  m.component = p.name;
  m.version = p.version;
  m.publisher = p.publisher;
  VQI_ASSIGN_OR_RETURN(m.recipe, ParseJson(p.recipe_json, "recipe of " + p.name));
  for (const StoredArtifact& a : p.artifacts)
    m.artifacts.push_back({a.name, a.uri, a.digest, a.size, a.unarchive});
  VQI_ASSIGN_OR_RETURN(signing::SignedManifest s, SignManifest(*env.keys, key_name, std::move(m)));
  StoredComponent c;
  c.name = p.name;
  c.version = p.version;
  c.publisher = p.publisher;
  c.key_id = s.manifest.key_id;
  c.recipe_json = p.recipe_json;
  c.recipe_text = p.recipe_text;
  c.artifacts = p.artifacts;
  c.manifest = std::move(s.bytes);
  c.signature = std::move(s.signature);
  c.source = p.source;
  return env.store->Put(c);
}

Result<PutOutcome> CreateComponent(const PackageEnv& env, const CreateRequest& req) {
  // Fail before storing anything when the key cannot sign (unknown, or readable by others).
  VQI_RETURN_IF_ERROR(env.keys->Sign(req.key_name, "").status());
  VQI_ASSIGN_OR_RETURN(std::string text, ReadFile(req.recipe_file, kMaxRecipeBytes));
  VQI_ASSIGN_OR_RETURN(internal::LoadedRecipe r,
                       internal::LoadRecipe(text, req.recipe_file, req.vars));

  // Every s3:// or bare-name artifact needs exactly one file of that name, and every file given
  // must be one of them (nothing silently dropped).
  std::map<std::string, std::string> files;  // file name -> path
  for (const std::string& path : req.artifact_files) {
    const std::string name = BaseName(path);
    if (!files.emplace(name, path).second)
      return InvalidArgument("--artifact " + path + ": a second file named '" + name +
                             "' (first: " + files[name] + ")");
  }
  std::set<std::string> used;
  for (const internal::RecipeArtifact& a : r.artifacts) {
    if (!a.upload) continue;
    if (!files.count(a.name))
      return InvalidArgument(a.field + ".Uri " + a.uri + ": no --artifact file named '" + a.name +
                             "' was given");
    used.insert(a.name);
  }
  for (const auto& [name, path] : files)
    if (!used.count(name))
      return InvalidArgument("--artifact " + path + ": the recipe names no artifact '" + name +
                             "' to upload (its s3:// or plain artifact URIs must end in the file "
                             "name)");

  // A ZIP the device will unpack must be safe to unpack (no "../", links, bombs): refused here,
  // before it is stored or signed.
  for (const internal::RecipeArtifact& a : r.artifacts) {
    if (!a.upload || !a.zip) continue;
    auto entries = CheckZipEntries(files[a.name]);
    if (!entries.ok())
      return entries.status().WithContext(a.field + " (Unarchive: ZIP) --artifact " +
                                          files[a.name]);
  }

  // gc must not collect the new blobs before the row that references them commits.
  VQI_ASSIGN_OR_RETURN(registry::ArtifactLock lock,
                       registry::ArtifactLock::Shared(env.blobs->dir()));
  std::map<std::string, UploadedArtifact> uploaded;
  for (const internal::RecipeArtifact& a : r.artifacts) {
    if (!a.upload) continue;
    VQI_ASSIGN_OR_RETURN(blob::PutResult put, env.blobs->PutFile(files[a.name]));
    uploaded[a.name] = {put.digest, put.size};
  }
  VQI_RETURN_IF_ERROR(env.blobs->Sync());  // blobs durable before the row names them

  PreparedComponent p;
  p.name = r.recipe.name;
  p.version = r.recipe.version;
  p.publisher = r.recipe.publisher;
  p.recipe_text = text;
  VQI_ASSIGN_OR_RETURN(internal::MappedRecipe mapped,
                       internal::MapRecipe(std::move(r), uploaded, *env.blobs));
  p.recipe_json = std::move(mapped.recipe_json);
  p.artifacts = std::move(mapped.artifacts);
  return SignAndStore(env, p, req.key_name);
}

}  // namespace vqi::component
