#include "vqi/fleet/status_report.h"

#include <cmath>

#include "json_fields.h"
#include "vqi/base/json.h"
#include "vqi/fleet/desired_state.h"

namespace vqi::fleet {

using namespace internal;  // NOLINT

namespace {
constexpr std::string_view kStatusNames[] = {
    "QUEUED",   "IN_PROGRESS", "SUCCEEDED", "FAILED_ROLLBACK_COMPLETE", "FAILED_NO_ROLLBACK",
    "REJECTED", "TIMED_OUT",   "CANCELED"};
constexpr std::string_view kComponentStates[] = {"NEW",      "INSTALLED", "STARTING", "RUNNING",
                                                 "FINISHED", "STOPPING",  "ERRORED",  "BROKEN"};
}  // namespace

const char* DeviceStatusName(DeviceStatus s) { return kStatusNames[static_cast<int>(s)].data(); }

Result<DeviceStatus> ParseDeviceStatus(std::string_view name) {
  std::string list;
  for (size_t i = 0; i < std::size(kStatusNames); ++i) {
    if (name == kStatusNames[i]) return static_cast<DeviceStatus>(i);
    list += (i ? "|" : "") + std::string(kStatusNames[i]);
  }
  return InvalidArgument("'" + std::string(name.substr(0, 64)) + "' is not a status (" + list +
                         ")");
}

bool IsTerminal(DeviceStatus s) {
  return s != DeviceStatus::kQueued && s != DeviceStatus::kInProgress;
}

bool IsFailure(DeviceStatus s) {
  return s == DeviceStatus::kFailedRollbackComplete || s == DeviceStatus::kFailedNoRollback ||
         s == DeviceStatus::kRejected || s == DeviceStatus::kTimedOut;
}

Status ValidateComponentState(std::string_view state) {
  std::string list;
  for (std::string_view s : kComponentStates) {
    if (state == s) return Status::Ok();
    list += (list.empty() ? "" : "|") + std::string(s);
  }
  return InvalidArgument("'" + std::string(state.substr(0, 64)) + "' is not a component state (" +
                         list + ")");
}

std::string StatusReportToJson(const StatusReport& r) {
  Json comps = Json::object();
  for (const auto& [name, c] : r.components)
    comps[name] = {{"version", c.version}, {"state", c.state}};
  Json doc{{"schema", kStatusSchema},
           {"thing", r.thing},
           {"deploymentId", r.deployment_id},
           {"sequence", r.sequence},
           {"status", DeviceStatusName(r.status)},
           {"reason", r.reason},
           {"components", comps},
           {"at", r.at}};
  if (r.kpi)
    doc["kpi"] = {{"metric", r.kpi->metric},
                  {"before", r.kpi->before},
                  {"after", r.kpi->after},
                  {"samples", r.kpi->samples}};
  return doc.dump();
}

Result<StatusReport> ParseStatusReport(std::string_view text, std::string_view sender) {
  if (text.size() > kMaxStatusBytes)
    return ResourceExhausted("status report: " + std::to_string(text.size()) +
                             " bytes, more than the maximum of " + std::to_string(kMaxStatusBytes) +
                             " (docs/limits.md, Fleet)");
  VQI_ASSIGN_OR_RETURN(Json doc, ParseJson(text, "status report", 8));
  VQI_RETURN_IF_ERROR(ExpectObject(doc, ""));
  VQI_RETURN_IF_ERROR(RefuseUnknown(doc, "",
                                    {"schema", "thing", "deploymentId", "sequence", "status",
                                     "reason", "components", "kpi", "at"}));
  VQI_ASSIGN_OR_RETURN(std::string schema, GetString(doc, "", "schema", true));
  if (schema != kStatusSchema)
    return InvalidArgument("schema: '" + schema.substr(0, 64) + "' is not " +
                           std::string(kStatusSchema));
  StatusReport r;
  VQI_ASSIGN_OR_RETURN(r.thing, GetString(doc, "", "thing", true));
  if (r.thing != sender)
    return PermissionDenied("thing: '" + r.thing.substr(0, 128) + "' is not the sender '" +
                            std::string(sender) + "'");
  VQI_ASSIGN_OR_RETURN(r.deployment_id, GetString(doc, "", "deploymentId", true));
  if (r.deployment_id.empty() || r.deployment_id.size() > 64)
    return InvalidArgument("deploymentId: must be 1-64 bytes");
  VQI_ASSIGN_OR_RETURN(r.sequence, GetInt(doc, "", "sequence", true, 0, 1, INT64_MAX));
  VQI_ASSIGN_OR_RETURN(std::string status, GetString(doc, "", "status", true));
  auto st = ParseDeviceStatus(status);
  if (!st.ok()) return InvalidArgument("status: " + st.status().message());
  r.status = *st;
  VQI_ASSIGN_OR_RETURN(r.reason, GetString(doc, "", "reason", false));
  if (r.reason.size() > 1024) r.reason = r.reason.substr(0, 1024) + "...";
  VQI_ASSIGN_OR_RETURN(r.at, GetString(doc, "", "at", false));
  if (auto c = doc.find("components"); c != doc.end()) {
    VQI_RETURN_IF_ERROR(ExpectObject(*c, "components"));
    for (auto it = c->begin(); it != c->end(); ++it) {
      const std::string path = "components." + it.key();
      VQI_RETURN_IF_ERROR(ExpectObject(it.value(), path));
      VQI_RETURN_IF_ERROR(RefuseUnknown(it.value(), path, {"version", "state"}));
      ComponentReport cr;
      VQI_ASSIGN_OR_RETURN(cr.version, GetString(it.value(), path, "version", true));
      VQI_ASSIGN_OR_RETURN(cr.state, GetString(it.value(), path, "state", true));
      Status cs = ValidateComponentState(cr.state);
      if (!cs.ok()) return InvalidArgument(path + ".state: " + cs.message());
      r.components[it.key()] = cr;
    }
  }
  if (auto k = doc.find("kpi"); k != doc.end()) {
    VQI_RETURN_IF_ERROR(ExpectObject(*k, "kpi"));
    VQI_RETURN_IF_ERROR(RefuseUnknown(*k, "kpi", {"metric", "before", "after", "samples"}));
    KpiReport kr;
    VQI_ASSIGN_OR_RETURN(kr.metric, GetString(*k, "kpi", "metric", true));
    VQI_ASSIGN_OR_RETURN(kr.before, GetNumber(*k, "kpi", "before", true, 0, -1e300, 1e300));
    VQI_ASSIGN_OR_RETURN(kr.after, GetNumber(*k, "kpi", "after", true, 0, -1e300, 1e300));
    VQI_ASSIGN_OR_RETURN(kr.samples, GetInt(*k, "kpi", "samples", false, 0, 0, INT64_MAX));
    r.kpi = kr;
  }
  return r;
}

}  // namespace vqi::fleet
