// RegisterModel: validate everything, then blobs (synced), then one store transaction.
#include "vqi/registry/register.h"

#include <filesystem>

#include "vqi/base/file.h"
#include "vqi/blob/blob_store.h"
#include "vqi/registry/artifacts.h"

namespace vqi::registry {
namespace {

struct File {
  const char* name;  // artifact name
  std::string path;
  const char* flag;  // for messages
};

// A regular file of at most the artifact limit.
Status CheckFile(const File& f) {
  std::error_code ec;
  const auto st = std::filesystem::status(f.path, ec);
  if (ec || !std::filesystem::exists(st))
    return NotFound(std::string(f.flag) + " " + f.path + ": no such file");
  if (!std::filesystem::is_regular_file(st))
    return InvalidArgument(std::string(f.flag) + " " + f.path + ": not a regular file");
  const auto size = std::filesystem::file_size(f.path, ec);
  if (ec) return Unavailable(std::string(f.flag) + " " + f.path + ": " + ec.message());
  if (size > static_cast<uint64_t>(kMaxArtifactBytes))
    return ResourceExhausted(std::string(f.flag) + " " + f.path + ": " + std::to_string(size) +
                             " bytes, more than the artifact maximum of " +
                             std::to_string(kMaxArtifactBytes) + " (docs/limits.md)");
  return Status::Ok();
}

}  // namespace

Result<ModelVersion> RegisterModel(Store& store, blob::BlobStore& blobs, const RegisterRequest& q) {
  // 1. Everything that can be refused is checked before any byte is written.
  VQI_RETURN_IF_ERROR(ValidateGroupName(q.group));
  VQI_RETURN_IF_ERROR(ValidateText("description", q.description, kMaxDescriptionBytes, true));
  if (q.model.empty()) return InvalidArgument("the ONNX model file is required (--model)");
  if (q.report.empty())
    return InvalidArgument(
        "the eval report is required (--report, from `vqi model eval --report`)");
  VQI_ASSIGN_OR_RETURN(std::string report_text, ReadFile(q.report, kMaxReportFileBytes));
  VQI_ASSIGN_OR_RETURN(ReportSummary report, ParseEvalReport(report_text, q.report));
  if (q.min_map50) VQI_RETURN_IF_ERROR(CheckGate(report, q.report, *q.min_map50));
  std::string checkpoint;
  VQI_ASSIGN_OR_RETURN(Lineage lineage, GatherLineage(q, report, &checkpoint));

  std::vector<File> files = {{kModelArtifact, q.model, "--model"}};
  if (!q.model_int8.empty()) files.push_back({kInt8Artifact, q.model_int8, "--int8"});
  if (!checkpoint.empty())
    files.push_back(
        {kCheckpointArtifact, checkpoint, q.checkpoint.empty() ? "--run" : "--checkpoint"});
  for (const File& f : files) VQI_RETURN_IF_ERROR(CheckFile(f));

  NewVersion v;
  v.group = q.group;
  v.description = q.description;
  v.created_by = q.created_by;
  v.metrics = report.metrics;
  if (!report.source.empty()) v.metrics["source"] = report.source;
  v.lineage = std::move(lineage);
  // Validate the version as the store will (names, sizes, lineage) with placeholder digests.
  {
    NewVersion probe = v;
    for (const File& f : files) probe.artifacts.push_back({f.name, std::string(64, '0'), 0, ""});
    probe.artifacts.push_back({kReportArtifact, std::string(64, '0'), 0, ""});
    VQI_RETURN_IF_ERROR(ValidateNewVersion(probe));
  }

  if (!v.lineage.parent.empty()) {
    std::string pg;
    int64_t pv = 0;
    VQI_RETURN_IF_ERROR(ParseVersionRef(v.lineage.parent, &pg, &pv, "--parent"));
    VQI_RETURN_IF_ERROR(store.Get(pg, pv).status().WithContext("--parent"));
  }

  // 2. Blobs, synced, under the shared artifact lock (gc waits), then the store.
  VQI_ASSIGN_OR_RETURN(ArtifactLock lock, ArtifactLock::Shared(blobs.dir()));
  for (const File& f : files) {
    VQI_ASSIGN_OR_RETURN(blob::PutResult put, blobs.PutFile(f.path));
    v.artifacts.push_back({f.name, put.digest, put.size, MediaTypeFor(f.name)});
  }
  VQI_ASSIGN_OR_RETURN(blob::PutResult rep, blobs.Put(report_text));
  v.artifacts.push_back({kReportArtifact, rep.digest, rep.size, MediaTypeFor(kReportArtifact)});
  VQI_RETURN_IF_ERROR(blobs.Sync());
  return store.Register(v);
}

}  // namespace vqi::registry
