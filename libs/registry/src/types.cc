// Registry domain types: status names, the approval state machine, validation, JSON forms.
#include "vqi/registry/types.h"

#include <ctime>

#include "show.h"
#include "vqi/blob/blob_store.h"

namespace vqi::registry {
namespace {

bool NameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}
bool AlnumChar(char c) { return NameChar(c) && c != '.' && c != '_' && c != '-'; }

// Length of the well-formed UTF-8 sequence at s[i], or 0.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n;
  unsigned lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  return n;
}

Status ValidateName(std::string_view what, std::string_view name, size_t max) {
  const std::string pattern = "[A-Za-z0-9][A-Za-z0-9._-]{0," + std::to_string(max - 1) + "}";
  if (name.empty())
    return InvalidArgument(std::string(what) + " is empty (accepted: " + pattern + ")");
  if (name.size() > max)
    return InvalidArgument(std::string(what) + " has " + std::to_string(name.size()) +
                           " characters, more than the maximum of " + std::to_string(max) +
                           " (accepted: " + pattern + ", docs/limits.md)");
  for (size_t i = 0; i < name.size(); ++i) {
    const bool ok = i == 0 ? AlnumChar(name[i]) : NameChar(name[i]);
    if (!ok) {
      return InvalidArgument(std::string(what) + " '" + Show(name) + "': character " +
                             std::to_string(i + 1) + " is not allowed (accepted: " + pattern + ")");
    }
  }
  return Status::Ok();
}

}  // namespace

const char* ApprovalStatusName(ApprovalStatus s) {
  switch (s) {
    case ApprovalStatus::kPendingManualApproval:
      return "PendingManualApproval";
    case ApprovalStatus::kApproved:
      return "Approved";
    case ApprovalStatus::kRejected:
      return "Rejected";
  }
  return "?";
}

Result<ApprovalStatus> ParseApprovalStatus(std::string_view s) {
  for (ApprovalStatus a : {ApprovalStatus::kPendingManualApproval, ApprovalStatus::kApproved,
                           ApprovalStatus::kRejected})
    if (s == ApprovalStatusName(a)) return a;
  return InvalidArgument("approval status '" + Show(s, 64) +
                         "': accepted values are PendingManualApproval, Approved, Rejected");
}

bool IsLegalTransition(ApprovalStatus from, ApprovalStatus to) {
  if (to == ApprovalStatus::kPendingManualApproval || from == to) return false;
  return true;  // Pending→Approved/Rejected, Approved→Rejected, Rejected→Approved
}

std::string MediaTypeFor(std::string_view name) {
  auto ends = [&](std::string_view suffix) {
    return name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  };
  if (ends(".onnx")) return "application/vnd.onnx";
  if (ends(".safetensors")) return "application/vnd.safetensors";
  if (ends(".json")) return "application/json";
  return "application/octet-stream";
}

const ArtifactRef* ModelVersion::Artifact(std::string_view name) const {
  for (const ArtifactRef& a : artifacts)
    if (a.name == name) return &a;
  return nullptr;
}

Status ValidateGroupName(std::string_view name) {
  return ValidateName("model group name", name, kMaxGroupNameBytes);
}

Status ValidateArtifactName(std::string_view name) {
  return ValidateName("artifact name", name, kMaxArtifactNameBytes);
}

Status ValidateText(std::string_view field, std::string_view text, size_t max_bytes,
                    bool multiline) {
  if (text.size() > max_bytes)
    return ResourceExhausted(std::string(field) + " has " + std::to_string(text.size()) +
                             " bytes, more than the maximum of " + std::to_string(max_bytes) +
                             " (docs/limits.md, Registry)");
  for (size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const bool control = c < 0x20 || c == 0x7f;
    if (control && !(multiline && (c == '\n' || c == '\t')))
      return InvalidArgument(std::string(field) + ": control character " + std::to_string(c) +
                             " at byte " + std::to_string(i) + " is not allowed");
    const size_t n = Utf8SequenceLength(text, i);
    if (n == 0)
      return InvalidArgument(std::string(field) + ": not valid UTF-8 at byte " + std::to_string(i));
    i += n;
  }
  return Status::Ok();
}

Status ParseVersionRef(std::string_view ref, std::string* group, int64_t* version,
                       std::string_view field) {
  const size_t slash = ref.rfind('/');
  const std::string shown = Show(ref);
  if (slash == std::string_view::npos)
    return InvalidArgument(std::string(field) + " '" + shown +
                           "': expected group/version (e.g. tags/3)");
  VQI_RETURN_IF_ERROR(ValidateGroupName(ref.substr(0, slash)).WithContext(std::string(field)));
  const std::string_view num = ref.substr(slash + 1);
  int64_t v = 0;
  if (num.empty() || num.size() > 12 || num[0] == '0')
    return InvalidArgument(std::string(field) + " '" + shown +
                           "': the version must be a number from 1");
  for (char c : num) {
    if (c < '0' || c > '9')
      return InvalidArgument(std::string(field) + " '" + shown +
                             "': the version must be a number from 1");
    v = v * 10 + (c - '0');
  }
  *group = std::string(ref.substr(0, slash));
  *version = v;
  return Status::Ok();
}

Status ValidateNewVersion(const NewVersion& v) {
  VQI_RETURN_IF_ERROR(ValidateGroupName(v.group));
  VQI_RETURN_IF_ERROR(ValidateText("description", v.description, kMaxDescriptionBytes, true));
  VQI_RETURN_IF_ERROR(
      ValidateText("group description", v.group_description, kMaxDescriptionBytes, true));
  if (v.created_by.empty()) return InvalidArgument("created_by is empty (who registers it?)");
  VQI_RETURN_IF_ERROR(ValidateText("created_by", v.created_by, kMaxActorBytes));
  if (v.artifacts.empty()) return InvalidArgument("a model version needs at least one artifact");
  if (v.artifacts.size() > kMaxArtifactsPerVersion)
    return ResourceExhausted("a model version has " + std::to_string(v.artifacts.size()) +
                             " artifacts, more than the maximum of " +
                             std::to_string(kMaxArtifactsPerVersion) + " (docs/limits.md)");
  for (size_t i = 0; i < v.artifacts.size(); ++i) {
    const ArtifactRef& a = v.artifacts[i];
    const std::string where = "artifacts[" + std::to_string(i) + "]";
    VQI_RETURN_IF_ERROR(ValidateArtifactName(a.name).WithContext(where));
    for (size_t k = 0; k < i; ++k)
      if (v.artifacts[k].name == a.name)
        return InvalidArgument(where + ": artifact name '" + a.name + "' is used twice");
    if (!blob::IsDigest(a.digest))
      return InvalidArgument(where + ".digest: not a lowercase hex SHA-256");
    if (a.size < 0 || a.size > kMaxArtifactBytes)
      return InvalidArgument(where + ".size: " + std::to_string(a.size) + " is out of range");
    VQI_RETURN_IF_ERROR(ValidateText(where + ".media_type", a.media_type, kMaxLineageFieldBytes));
  }
  if (!v.metrics.is_object()) return InvalidArgument("metrics must be a JSON object");
  const Lineage& l = v.lineage;
  for (const auto& [field, text] :
       {std::pair{"lineage.dataset", &l.dataset}, std::pair{"lineage.split", &l.split},
        std::pair{"lineage.split_digest", &l.split_digest},
        std::pair{"lineage.source_revision", &l.source_revision},
        std::pair{"lineage.parent", &l.parent}, std::pair{"lineage.run_id", &l.run_id}})
    VQI_RETURN_IF_ERROR(ValidateText(field, *text, kMaxLineageFieldBytes));
  if (l.source_revision.empty())
    return InvalidArgument("lineage.source_revision is empty (a git commit or 'unknown')");
  if (!l.split_digest.empty() && !blob::IsDigest(l.split_digest))
    return InvalidArgument("lineage.split_digest '" + l.split_digest +
                           "': not a lowercase hex SHA-256");
  if (!l.train_config.is_object())
    return InvalidArgument("lineage.train_config must be a JSON object");
  if (!l.parent.empty()) {
    std::string g;
    int64_t n = 0;
    VQI_RETURN_IF_ERROR(ParseVersionRef(l.parent, &g, &n, "lineage.parent"));
  }
  return Status::Ok();
}

OrderedJson ToJson(const ArtifactRef& a) {
  return {{"name", a.name}, {"digest", a.digest}, {"size", a.size}, {"media_type", a.media_type}};
}

OrderedJson ToJson(const Lineage& l) {
  OrderedJson j;
  j["dataset"] = l.dataset;
  j["split"] = l.split;
  j["split_digest"] = l.split_digest;
  j["train_config"] = l.train_config;
  j["source_revision"] = l.source_revision;
  j["parent"] = l.parent;
  j["run_id"] = l.run_id;
  return j;
}

OrderedJson ToJson(const ApprovalEvent& e) {
  OrderedJson j;
  j["seq"] = e.seq;
  j["model"] = e.group + "/" + std::to_string(e.version);
  j["from"] = e.from;
  j["to"] = ApprovalStatusName(e.to);
  j["actor"] = e.actor;
  j["time"] = e.time;
  j["reason"] = e.reason;
  return j;
}

OrderedJson ToJson(const Group& g) {
  OrderedJson j;
  j["name"] = g.name;
  j["description"] = g.description;
  j["created"] = g.created;
  j["created_by"] = g.created_by;
  j["versions"] = g.versions;
  j["latest_approved"] = g.latest_approved;
  return j;
}

OrderedJson ToJson(const ModelVersion& v) {
  OrderedJson j;
  j["group"] = v.group;
  j["version"] = v.version;
  j["status"] = ApprovalStatusName(v.status);
  j["status_changed"] = v.status_changed;
  j["description"] = v.description;
  j["created"] = v.created;
  j["created_by"] = v.created_by;
  j["artifacts"] = OrderedJson::array();
  for (const ArtifactRef& a : v.artifacts) j["artifacts"].push_back(ToJson(a));
  j["metrics"] = v.metrics;
  j["lineage"] = ToJson(v.lineage);
  return j;
}

std::string Rfc3339(int64_t unix_ms) {
  const time_t t = static_cast<time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace vqi::registry
