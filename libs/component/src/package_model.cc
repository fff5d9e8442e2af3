// Model components: an approved registry model → the next signed version of vqi.model.<group>.

#include "package_recipe.h"
#include "vqi/base/hash.h"
#include "vqi/component/package.h"
#include "vqi/component/semver.h"
#include "vqi/registry/artifacts.h"

namespace vqi::component {
namespace {

constexpr const char* kFp32 = "model.onnx";
constexpr const char* kInt8 = "model.int8.onnx";

std::string Source(const ModelToPackage& m) {
  return "registry:" + m.group + "/" + std::to_string(m.version);
}

const StoredArtifact* Find(const ModelToPackage& m, const std::string& name) {
  for (const StoredArtifact& a : m.artifacts)
    if (a.name == name) return &a;
  return nullptr;
}

}  // namespace

std::string ModelComponentName(const std::string& group) { return "vqi.model." + group; }

Result<std::string> NextPatchVersion(const std::string& latest) {
  VQI_ASSIGN_OR_RETURN(Version v, ParseVersion(latest, "latest stored version"));
  // 1.2.4-rc.1 precedes 1.2.4: its next version is the release; build metadata is dropped.
  const uint64_t patch = v.IsPrerelease() ? v.patch : v.patch + 1;
  if (patch > kMaxVersionNumber)
    return ResourceExhausted("latest stored version " + latest + ": no patch version after it");
  return std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(patch);
}

Result<std::string> ModelComponentRecipe(const ModelToPackage& m, const std::string& version,
                                         const std::string& publisher) {
  const StoredArtifact* fp32 = Find(m, kFp32);
  if (!fp32)
    return FailedPrecondition("model " + m.group + "/" + std::to_string(m.version) + " has no " +
                              kFp32 + " artifact: export it to ONNX and register it first");
  const StoredArtifact* int8 = Find(m, kInt8);
  const StoredArtifact* stats = Find(m, kStatsArtifact);
  Json metrics = Json::object();  // scalars only: curves and per-class tables stay in the registry
  if (m.metrics.is_object())
    for (const auto& [k, v] : m.metrics.items())
      if (v.is_primitive()) metrics[k] = v;
  Json files{{"fp32", kFp32}};
  Json artifacts = Json::array();
  std::string copy = "mkdir -p {work:path}/model && cp {artifacts:path}/" + std::string(kFp32);
  for (const StoredArtifact* a : {fp32, int8, stats}) {
    if (!a) continue;
    artifacts.push_back({{"Uri", "vqi://artifacts/" + a->digest + "/" + a->name},
                         {"Digest", a->digest},
                         {"Algorithm", "SHA-256"},
                         {"Unarchive", "NONE"}});
  }
  if (int8) {
    files["int8"] = kInt8;
    copy += " {artifacts:path}/" + std::string(kInt8);
  }
  if (stats) {
    files["stats"] = kStatsArtifact;
    copy += " {artifacts:path}/" + std::string(kStatsArtifact);
  }
  copy += " {work:path}/model/";
  const Json recipe{
      {"RecipeFormatVersion", "2020-01-25"},
      {"ComponentName", ModelComponentName(m.group)},
      {"ComponentVersion", version},
      {"ComponentType", "aws.greengrass.generic"},
      {"ComponentDescription", "Model " + m.group + " version " + std::to_string(m.version) +
                                   " (approved in the vqi registry)"},
      {"ComponentPublisher", publisher},
      {"ComponentConfiguration",
       {{"DefaultConfiguration",
         {{"model",
           {{"group", m.group},
            {"version", m.version},
            {"metrics", metrics},
            {"files", files}}}}}}},
      {"Manifests",
       Json::array({{{"Platform", {{"os", "linux"}}},
                     {"Lifecycle", {{"install", {{"Script", copy}, {"Timeout", 300}}}}},
                     {"Artifacts", artifacts}}})}};
  return recipe.dump(2);
}

Result<PutOutcome> PackageModel(const PackageEnv& env, const ModelToPackage& model,
                                const std::string& key_name, const std::string& publisher) {
  const std::string name = ModelComponentName(model.group);
  std::string given_stats_digest;
  if (!model.stats_file.empty()) {
    VQI_ASSIGN_OR_RETURN(given_stats_digest, Sha256File(model.stats_file));
  }
  std::string version = "1.0.0";
  auto versions = env.store->Versions(name);
  if (versions.ok()) {
    VQI_ASSIGN_OR_RETURN(StoredComponent latest, env.store->Get(name, versions->back()));
    bool same_stats = given_stats_digest.empty();
    for (const StoredArtifact& a : latest.artifacts)
      if (a.name == kStatsArtifact && a.digest == given_stats_digest) same_stats = true;
    if (latest.source == Source(model) && same_stats) return PutOutcome{std::move(latest), false};
    VQI_ASSIGN_OR_RETURN(version, NextPatchVersion(versions->back()));
  } else if (versions.status().code() != StatusCode::kNotFound) {
    return versions.status();
  }
  // Fail before anything else (computing statistics reads images) when the key cannot sign or
  // the model cannot be packaged.
  VQI_RETURN_IF_ERROR(env.keys->Sign(key_name, "").status());
  VQI_RETURN_IF_ERROR(ModelComponentRecipe(model, version, publisher).status());
  ModelToPackage m = model;
  std::string stats_path = m.stats_file;
  if (stats_path.empty() && m.compute_stats) {
    VQI_ASSIGN_OR_RETURN(stats_path, m.compute_stats());
  }
  // gc must not collect the model's blobs before the component's row commits.
  VQI_ASSIGN_OR_RETURN(registry::ArtifactLock lock,
                       registry::ArtifactLock::Shared(env.blobs->dir()));
  for (const char* file : {kFp32, kInt8}) {
    const StoredArtifact* src = Find(model, file);
    if (!src) continue;
    VQI_ASSIGN_OR_RETURN(bool exists, env.blobs->Exists(src->digest));
    if (!exists)
      return DataLoss("model " + model.group + "/" + std::to_string(model.version) + ": artifact " +
                      file + " (blob " + src->digest + ") is missing from " + env.blobs->dir() +
                      " (run vqi store verify)");
  }
  // Only the statistics given here are packaged (a registry artifact of that name is not).
  std::erase_if(m.artifacts, [](const StoredArtifact& a) { return a.name == kStatsArtifact; });
  if (!stats_path.empty()) {
    VQI_ASSIGN_OR_RETURN(blob::PutResult put, env.blobs->PutFile(stats_path));
    VQI_RETURN_IF_ERROR(env.blobs->Sync());
    m.artifacts.push_back({kStatsArtifact, "", put.digest, put.size, "NONE"});
  }
  VQI_ASSIGN_OR_RETURN(std::string text, ModelComponentRecipe(m, version, publisher));
  VQI_ASSIGN_OR_RETURN(internal::LoadedRecipe r,
                       internal::LoadRecipe(text, "generated recipe of " + name, {}));
  PreparedComponent p;
  p.name = r.recipe.name;
  p.version = r.recipe.version;
  p.publisher = r.recipe.publisher;
  p.recipe_text = text;
  p.source = Source(model);
  VQI_ASSIGN_OR_RETURN(internal::MappedRecipe mapped,
                       internal::MapRecipe(std::move(r), {}, *env.blobs));
  p.recipe_json = std::move(mapped.recipe_json);
  p.artifacts = std::move(mapped.artifacts);
  return SignAndStore(env, p, key_name);
}

}  // namespace vqi::component
