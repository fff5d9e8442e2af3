// Packaging use cases over the component store (docs/design/component_store.md):
// create a signed component from a recipe and artifact files, verify a stored component,
// and package the latest approved model of a registry group as the next model component.
//
// Errors: those of the recipe parser (InvalidArgument naming the file and field), of the key
// store (NotFound for an unknown key, PermissionDenied for a secret key readable by others), of
// the component store (AlreadyExists for an existing, different name@version), and of
// verification (PermissionDenied / DataLoss naming what failed, docs/design/signing.md).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/blob/blob_store.h"
#include "vqi/component/store.h"
#include "vqi/signing/keys.h"
#include "vqi/signing/manifest.h"

namespace vqi::component {

// Largest artifact blob (the shared blob store's max_blob_bytes, docs/limits.md).
inline constexpr int64_t kMaxArtifactBytes = int64_t{4} << 30;

// What the use cases work on; all borrowed, none owned.
struct PackageEnv {
  Store* store = nullptr;
  blob::BlobStore* blobs = nullptr;  // <home>/artifacts, max_blob_bytes = kMaxArtifactBytes
  signing::KeyStore* keys = nullptr;
};

struct CreateRequest {
  std::string recipe_file;                  // JSON or YAML (by extension)
  std::vector<std::string> artifact_files;  // matched to the recipe's artifact URIs by file name
  std::map<std::string, std::string> vars;  // --var KEY=VALUE placeholders
  std::string key_name;                     // the publisher key that signs
};

// A recipe ready to sign: its canonical JSON and every artifact with its blob already stored.
struct PreparedComponent {
  std::string name;
  std::string version;
  std::string publisher;
  std::string recipe_json;  // canonical (sorted keys, no whitespace)
  std::string recipe_text;  // as written (before placeholders were filled)
  std::vector<StoredArtifact> artifacts;
  std::string source;  // "" or "registry:<group>/<version>"
};

// Reads, fills, parses and checks the recipe, stores the artifact files in the blob store
// (synced), signs the manifest and stores the component.
Result<PutOutcome> CreateComponent(const PackageEnv& env, const CreateRequest& request);

// Signs and stores a prepared component (its artifacts' blobs must be stored and synced).
Result<PutOutcome> SignAndStore(const PackageEnv& env, const PreparedComponent& prepared,
                                const std::string& key_name);

// The manifest a stored component's signature must match, rebuilt from its stored recipe and
// artifact rows (never from the stored manifest bytes).
Result<signing::Manifest> RebuildManifest(const StoredComponent& c);

// Verifies name@version: the signature against `trusted` over the rebuilt manifest, then each
// artifact re-hashed from the blob store. OK, or PermissionDenied / DataLoss naming what failed.
Status VerifyComponent(Store& store, const blob::BlobStore& blobs, const std::string& name,
                       const std::string& version, const signing::TrustedKeys& trusted);

// ---- Model components (from-model) ---------------------------------------------------------

// An approved model version as the registry holds it: what a model component packages.
struct ModelToPackage {
  std::string group;
  int64_t version = 0;
  Json metrics = Json::object();
  // Registry artifacts (blobs already in the blob store); model.onnx is required,
  // model.int8.onnx packaged when present, anything else (checkpoints, reports) left out.
  std::vector<StoredArtifact> artifacts;
  // The drift monitor's training statistics (`vqi.inspect.stats/1`, docs/design/inspect.md),
  // packaged as the artifact stats.json. `stats_file`: a file given by the user; it also makes
  // a new version when the latest one packages this model with other (or no) statistics.
  // Else `compute_stats`, called only when a new version is created (computing them reads the
  // training images): the path of a file, or "" to package without. libs/component never reads
  // the document (the caller, which links libs/inspect, checked it).
  std::string stats_file;
  std::function<Result<std::string>()> compute_stats;
};

// The artifact name of the drift statistics beside model.onnx.
inline constexpr const char* kStatsArtifact = "stats.json";

// "vqi.model.<group>".
std::string ModelComponentName(const std::string& group);
// The version after `latest`: 1.2.3 -> 1.2.4, 1.2.4-rc.1 -> 1.2.4 (build metadata dropped).
// InvalidArgument if `latest` is not a semantic version.
Result<std::string> NextPatchVersion(const std::string& latest);
// The generated recipe of a model component (JSON text): artifacts as
// vqi://artifacts/<digest>/<name>, an install step copying them to {work:path}/model, and
// DefaultConfiguration.model {group, version, metrics (scalars only), files}. An artifact
// named stats.json in `model.artifacts` is packaged too (files.stats).
Result<std::string> ModelComponentRecipe(const ModelToPackage& model, const std::string& version,
                                         const std::string& publisher);
// Packages `model` as the next version of ModelComponentName(group) (patch bump of the latest
// stored version, or 1.0.0), signed with `key_name`. Idempotent: when the latest version already
// packages this model version (and, when `stats_file` is given, a stats.json of the same
// bytes), returns it with created = false and stores nothing. The statistics file is put into
// the blob store like the model's blobs and signed with them.
Result<PutOutcome> PackageModel(const PackageEnv& env, const ModelToPackage& model,
                                const std::string& key_name, const std::string& publisher);

}  // namespace vqi::component
