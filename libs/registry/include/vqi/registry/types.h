// The model registry's domain: model package groups, auto-numbered versions with artifacts,
// metrics and lineage, and the approval state machine (docs/design/registry.md).
//
// Timestamps are UTC RFC 3339 strings ("2026-12-06T06:30:00Z"); digests lowercase hex SHA-256.
// Every limit here is listed in docs/limits.md ("Registry").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"

namespace vqi::registry {

// ---- Limits (docs/limits.md, "Registry") -------------------------------------------------
inline constexpr size_t kMaxGroupNameBytes = 64;         // [A-Za-z0-9][A-Za-z0-9._-]{0,63}
inline constexpr size_t kMaxArtifactNameBytes = 128;     // [A-Za-z0-9][A-Za-z0-9._-]{0,127}
inline constexpr size_t kMaxDescriptionBytes = 1024;     // SageMaker's ModelPackageDescription
inline constexpr size_t kMaxReasonBytes = 1024;          // SageMaker's ApprovalDescription
inline constexpr size_t kMaxActorBytes = 128;            // who: a user or service name
inline constexpr size_t kMaxLineageFieldBytes = 256;     // dataset, split, source revision, ...
inline constexpr size_t kMaxMetricsJsonBytes = 1 << 20;  // stored metrics (no curves)
inline constexpr size_t kMaxTrainConfigJsonBytes = 64 << 10;  // training configuration
inline constexpr size_t kMaxArtifactsPerVersion = 16;
inline constexpr uint64_t kMaxReportFileBytes = 64 << 20;       // the eval report read
inline constexpr int64_t kMaxArtifactBytes = int64_t{4} << 30;  // blob store max_blob_bytes

enum class ApprovalStatus { kPendingManualApproval, kApproved, kRejected };
// "PendingManualApproval", "Approved", "Rejected" (SageMaker's names).
const char* ApprovalStatusName(ApprovalStatus s);
// The three names; InvalidArgument naming the accepted values otherwise.
Result<ApprovalStatus> ParseApprovalStatus(std::string_view s);
// The state machine: Pending→Approved, Pending→Rejected, Approved→Rejected (revoke),
// Rejected→Approved. Nothing goes back to Pending; no state moves to itself.
bool IsLegalTransition(ApprovalStatus from, ApprovalStatus to);

// One stored file of a version: e.g. "model.onnx", "model.int8.onnx", "best.safetensors",
// "report.json". The bytes are the blob `digest` in <home>/artifacts/ (stored without an
// extension: BlobStore::Path(digest)).
struct ArtifactRef {
  std::string name;
  std::string digest;
  int64_t size = 0;
  std::string media_type;
};
// "application/octet-stream" unless the name ends in .onnx, .safetensors or .json.
std::string MediaTypeFor(std::string_view artifact_name);

struct Lineage {
  std::string dataset;
  std::string split;
  std::string split_digest;                 // the split snapshot trained on ("" when unknown)
  Json train_config = Json::object();       // the training configuration (object)
  std::string source_revision = "unknown";  // git commit of the code, or "unknown"
  std::string parent;                       // "group/version" this was fine-tuned from, or ""
  std::string run_id;                       // the training run, when known
};

// A decision: what it moves to, who, why. The time is set by the store.
struct Approval {
  ApprovalStatus status = ApprovalStatus::kApproved;
  std::string actor;   // required
  std::string reason;  // required for Rejected
};

// One entry of a version's approval history (registration is the first: from "none").
struct ApprovalEvent {
  int64_t seq = 0;
  std::string group;
  int64_t version = 0;
  std::string from;  // "none" for the registration, else a status name
  ApprovalStatus to = ApprovalStatus::kPendingManualApproval;
  std::string actor;
  std::string time;
  std::string reason;
};

struct Group {
  std::string name;
  std::string description;
  std::string created;
  std::string created_by;
  int64_t versions = 0;         // how many versions it holds
  int64_t latest_approved = 0;  // 0 when none is Approved
};

struct ModelVersion {
  std::string group;
  int64_t version = 0;  // 1, 2, ... per group
  std::string description;
  ApprovalStatus status = ApprovalStatus::kPendingManualApproval;
  std::string status_changed;  // time of the last approval event
  std::string created;
  std::string created_by;
  std::vector<ArtifactRef> artifacts;  // sorted by name
  Json metrics = Json::object();
  Lineage lineage;

  // "group/version".
  std::string Ref() const { return group + "/" + std::to_string(version); }
  // The artifact of that name, or nullptr.
  const ArtifactRef* Artifact(std::string_view name) const;
};

// What Store::Register stores (the store numbers it and sets created/status).
struct NewVersion {
  std::string group;
  std::string group_description;  // used only when this registration creates the group
  std::string description;
  std::string created_by;
  std::vector<ArtifactRef> artifacts;  // blobs already stored and synced
  Json metrics = Json::object();
  Lineage lineage;
};

// ---- Validation (InvalidArgument / ResourceExhausted naming `field`) -----------------------
Status ValidateGroupName(std::string_view name);
Status ValidateArtifactName(std::string_view name);
// Valid UTF-8, at most `max_bytes`, no control characters (newline and tab allowed when
// `multiline`).
Status ValidateText(std::string_view field, std::string_view text, size_t max_bytes,
                    bool multiline = false);
Status ValidateNewVersion(const NewVersion& v);
// "group/version" → parts; InvalidArgument naming `field` otherwise.
Status ParseVersionRef(std::string_view ref, std::string* group, int64_t* version,
                       std::string_view field = "parent");

// JSON forms (for --json output and the server).
OrderedJson ToJson(const ArtifactRef& a);
OrderedJson ToJson(const Lineage& l);
OrderedJson ToJson(const ApprovalEvent& e);
OrderedJson ToJson(const Group& g);
OrderedJson ToJson(const ModelVersion& v);

// Now as UTC RFC 3339 ("2026-12-06T06:30:00Z"), from milliseconds since the epoch.
std::string Rfc3339(int64_t unix_ms);

}  // namespace vqi::registry
