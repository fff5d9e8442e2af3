// RegisterModel: validate everything, then blobs (synced), then one store transaction.
#include "vqi/registry/register.h"

#include <filesystem>

#include "vqi/base/file.h"
#include "vqi/blob/blob_store.h"
#include "vqi/registry/artifacts.h"

namespace vqi::registry {
namespace {

// A regular file of at most the artifact limit.
Status CheckFile(const std::string& flag, const std::string& path) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(st)) return NotFound(flag + " " + path + ": no such file");
  if (!std::filesystem::is_regular_file(st))
    return InvalidArgument(flag + " " + path + ": not a regular file");
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Unavailable(flag + " " + path + ": " + ec.message());
  if (size > static_cast<uint64_t>(kMaxArtifactBytes))
    return ResourceExhausted(flag + " " + path + ": " + std::to_string(size) +
                             " bytes, more than the artifact maximum of " +
                             std::to_string(kMaxArtifactBytes) + " (docs/limits.md)");
  return Status::Ok();
}

}  // namespace

Result<PreparedRegistration> PrepareRegistration(const RegisterRequest& q) {
  VQI_RETURN_IF_ERROR(ValidateGroupName(q.group));
  VQI_RETURN_IF_ERROR(ValidateText("description", q.description, kMaxDescriptionBytes, true));
  if (q.model.empty()) return InvalidArgument("the ONNX model file is required (--model)");
  if (q.report.empty())
    return InvalidArgument(
        "the eval report is required (--report, from `vqi model eval --report`)");
  PreparedRegistration p;
  VQI_ASSIGN_OR_RETURN(p.report_text, ReadFile(q.report, kMaxReportFileBytes));
  VQI_ASSIGN_OR_RETURN(ReportSummary report, ParseEvalReport(p.report_text, q.report));
  if (q.min_map50) VQI_RETURN_IF_ERROR(CheckGate(report, q.report, *q.min_map50));
  std::string checkpoint;
  VQI_ASSIGN_OR_RETURN(Lineage lineage, GatherLineage(q, report, &checkpoint));

  p.files = {{kModelArtifact, q.model}};
  if (!q.model_int8.empty()) p.files.push_back({kInt8Artifact, q.model_int8});
  if (!checkpoint.empty()) p.files.push_back({kCheckpointArtifact, checkpoint});
  for (const auto& [name, path] : p.files) {
    const char* flag = name == kModelArtifact  ? "--model"
                       : name == kInt8Artifact ? "--int8"
                       : q.checkpoint.empty()  ? "--run"
                                               : "--checkpoint";
    VQI_RETURN_IF_ERROR(CheckFile(flag, path));
  }

  NewVersion& v = p.version;
  v.group = q.group;
  v.group_description = q.group_description;
  v.description = q.description;
  v.created_by = q.created_by;
  v.metrics = report.metrics;
  if (!report.source.empty()) v.metrics["source"] = report.source;
  v.lineage = std::move(lineage);
  // Validate the version as the store will (names, sizes, lineage) with placeholder digests.
  NewVersion probe = v;
  for (const auto& [name, path] : p.files)
    probe.artifacts.push_back({name, std::string(64, '0'), 0, ""});
  probe.artifacts.push_back({kReportArtifact, std::string(64, '0'), 0, ""});
  VQI_RETURN_IF_ERROR(ValidateNewVersion(probe));
  return p;
}

Result<ModelVersion> CommitRegistration(Store& store, blob::BlobStore& blobs,
                                        const PreparedRegistration& p) {
  NewVersion v = p.version;
  if (!v.lineage.parent.empty()) {
    std::string pg;
    int64_t pv = 0;
    VQI_RETURN_IF_ERROR(ParseVersionRef(v.lineage.parent, &pg, &pv, "--parent"));
    VQI_RETURN_IF_ERROR(store.Get(pg, pv).status().WithContext("--parent"));
  }
  // Blobs, synced, under the shared artifact lock (gc waits), then the store.
  VQI_ASSIGN_OR_RETURN(ArtifactLock lock, ArtifactLock::Shared(blobs.dir()));
  v.artifacts.clear();
  for (const auto& [name, path] : p.files) {
    VQI_ASSIGN_OR_RETURN(blob::PutResult put, blobs.PutFile(path));
    v.artifacts.push_back({name, put.digest, put.size, MediaTypeFor(name)});
  }
  VQI_ASSIGN_OR_RETURN(blob::PutResult rep, blobs.Put(p.report_text));
  v.artifacts.push_back({kReportArtifact, rep.digest, rep.size, MediaTypeFor(kReportArtifact)});
  VQI_RETURN_IF_ERROR(blobs.Sync());
  return store.Register(v);
}

Result<ModelVersion> RegisterModel(Store& store, blob::BlobStore& blobs, const RegisterRequest& q) {
  VQI_ASSIGN_OR_RETURN(PreparedRegistration p, PrepareRegistration(q));
  return CommitRegistration(store, blobs, p);
}

}  // namespace vqi::registry
