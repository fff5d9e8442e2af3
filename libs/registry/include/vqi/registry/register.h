// The use case "register a trained model": read the eval report (`vqi model eval --report`),
// apply the mAP50 gate, gather lineage from the training run and flags, store the files in the
// blob store, then record the version in the registry store (docs/design/registry.md).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/registry/store.h"
#include "vqi/registry/types.h"

namespace vqi::blob {
class BlobStore;
}

namespace vqi::registry {

// Artifact names RegisterModel gives the files.
inline constexpr const char* kModelArtifact = "model.onnx";
inline constexpr const char* kInt8Artifact = "model.int8.onnx";
inline constexpr const char* kCheckpointArtifact = "best.safetensors";
inline constexpr const char* kReportArtifact = "report.json";

// The checkpoint of a `vqi model train` run that RegisterRequest::run_dir registers when no
// checkpoint is named (`<run_dir>/<choice>.safetensors`): the default recipe's choice among
// the run's three (docs/design/training.md, "Which checkpoint to ship": `last`, the EMA weights
// at the end of the schedule — cross-validated at the full budget it equals `best`, without a
// choice made on a ~30-image validation part).
inline constexpr const char* kDefaultRunCheckpoint = "last";
// The checkpoints a training run writes, the names `run_checkpoint` accepts (libs/train's
// CheckpointChoices(); the registry does not link the trainer).
inline const std::vector<std::string>& RunCheckpointChoices() {
  static const std::vector<std::string> kChoices{"best", "last", "smoothed"};
  return kChoices;
}

struct RegisterRequest {
  std::string group;
  std::string group_description;  // when this registration creates the group
  std::string description;
  std::string created_by;  // required (the CLI passes $USER)

  std::string model;       // ONNX fp32 file (required)
  std::string model_int8;  // optional int8 ONNX file
  std::string checkpoint;  // optional checkpoint (vqi-checkpoint safetensors); with run_dir,
                           // defaults to <run_dir>/<run_checkpoint>.safetensors
  std::string run_checkpoint = kDefaultRunCheckpoint;  // one of RunCheckpointChoices()
  std::string report;      // eval report JSON (required)
  std::optional<double> min_map50;  // the gate: refuse when metrics.map50 < min_map50

  // Lineage: `run_dir` (a `vqi model train --out` folder) fills what the training recorded in
  // its checkpoint; the fields below fill the rest or must agree with it.
  std::string run_dir;
  std::string dataset, split, split_digest;
  Json train_config;            // null: from the checkpoint, else {}
  std::string source_revision;  // "": from the checkpoint, else "unknown"
  std::string parent;           // "group/version" fine-tuned from
};

// What the eval report says, checked field by field.
struct ReportSummary {
  double map50 = 0;
  Json metrics = Json::object();  // metrics without the PR/confidence curves
  Json source = Json::object();   // {"dataset","split","part","split_digest"} or {"images"}
  std::string where;              // "part test" / "images DIR", for messages
};

// Parses an eval report (the text of `file`). InvalidArgument naming the file and the field
// (e.g. "metrics.map50") for anything missing or of the wrong type; FailedPrecondition when
// images failed during evaluation (the metrics leave them out).
Result<ReportSummary> ParseEvalReport(const std::string& text, const std::string& file);

// The gate: FailedPrecondition "model mAP50 0.71 is below the gate 0.8 (report R.json, part
// test): not registered" when map50 < min_map50; OK when equal or above.
Status CheckGate(const ReportSummary& report, const std::string& report_file, double min_map50);

// Lineage from `request` and the checkpoint's metadata (vqi.train, vqi.split_digest,
// vqi.run_id, vqi.source_revision) when a checkpoint is given or found in the run folder.
// InvalidArgument naming both values when a flag contradicts the checkpoint.
Result<Lineage> GatherLineage(const RegisterRequest& request, const ReportSummary& report,
                              std::string* checkpoint_path);

// A registration checked and ready to store: the version without artifact digests yet.
struct PreparedRegistration {
  NewVersion version;
  std::vector<std::pair<std::string, std::string>> files;  // artifact name, file path
  std::string report_text;                                 // stored as report.json
};

// Everything that can be refused without a store (names, files, report, gate, lineage); reads
// files, writes nothing. Callers open (and create) stores only after this succeeded.
Result<PreparedRegistration> PrepareRegistration(const RegisterRequest& request);

// Checks the parent exists, puts the files into `blobs` (synced) under the shared artifact lock
// of `blobs.dir()` (see artifacts.h), then registers the version. On an error nothing is
// recorded in `store` (blobs already written stay unreferenced until `vqi store gc`).
Result<ModelVersion> CommitRegistration(Store& store, blob::BlobStore& blobs,
                                        const PreparedRegistration& prepared);

// PrepareRegistration, then CommitRegistration.
Result<ModelVersion> RegisterModel(Store& store, blob::BlobStore& blobs,
                                   const RegisterRequest& request);

}  // namespace vqi::registry
