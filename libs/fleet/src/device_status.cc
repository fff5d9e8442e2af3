// The per-device status machine (docs/design/fleet.md) and status reports.
#include <ctime>

#include "vqi/fleet/deploy.h"

namespace vqi::fleet {
namespace {

std::string FormatTime(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// A report that repeats `r`'s terminal status and carries a KPI: it only adds/updates the KPI.
bool IsKpiUpdate(const DeviceStatusRecord& r, const StatusReport& report) {
  return IsTerminal(r.status) && report.status == r.status && report.kpi.has_value();
}

}  // namespace

Status CheckTransition(DeviceStatus from, DeviceStatus to, bool by_server) {
  auto refuse = [&](const std::string& why) {
    return FailedPrecondition(std::string("status ") + DeviceStatusName(from) + " -> " +
                              DeviceStatusName(to) + " is not allowed: " + why);
  };
  if (IsTerminal(from)) return refuse(std::string(DeviceStatusName(from)) + " is final");
  const bool server_only = to == DeviceStatus::kTimedOut || to == DeviceStatus::kCanceled;
  if (server_only && !by_server) return refuse("only the server sets it");
  if (to == DeviceStatus::kQueued && from != DeviceStatus::kQueued)
    return refuse("a device never goes back to QUEUED");
  return Status::Ok();
}

Result<DeviceStatusRecord> ApplyStatusReport(FleetStore& fleet, const StatusReport& report,
                                             int64_t now_ms) {
  DeviceStatusRecord r;
  VQI_RETURN_IF_ERROR(fleet.InTransaction([&]() -> Status {
    VQI_ASSIGN_OR_RETURN(Deployment d, fleet.GetDeployment(report.deployment_id));
    VQI_ASSIGN_OR_RETURN(r, fleet.GetDeviceStatus(d.id, report.thing));
    if (report.sequence <= r.sequence)
      return FailedPrecondition("status report from " + report.thing + " for " + d.id +
                                ": sequence " + std::to_string(report.sequence) +
                                " is not above the last accepted " + std::to_string(r.sequence) +
                                " (replayed or out of order; ignored)");
    // COMMON20 "KPI": a report repeating the current terminal status with a `kpi` only
    // adds/updates the KPI (it comes after SUCCEEDED, once the device has its samples).
    if (IsKpiUpdate(r, report)) {
      r.kpi = report.kpi;
      r.sequence = report.sequence;
      VQI_RETURN_IF_ERROR(fleet.PutDeviceStatus(r));
      VQI_ASSIGN_OR_RETURN(std::vector<Deployment> others, LiveDeploymentsOf(fleet, report.thing));
      for (const Deployment& o : others) {
        if (o.id == d.id) continue;
        auto other = fleet.GetDeviceStatus(o.id, report.thing);
        if (!other.ok() || other->sequence >= report.sequence || !IsKpiUpdate(*other, report))
          continue;
        other->kpi = report.kpi;
        other->sequence = report.sequence;
        VQI_RETURN_IF_ERROR(fleet.PutDeviceStatus(*other));
      }
      return Status::Ok();
    }
    VQI_RETURN_IF_ERROR(CheckTransition(r.status, report.status, false)
                            .WithContext("status report from " + report.thing + " for " + d.id));
    if (report.status == DeviceStatus::kInProgress && r.in_progress_ms < 0)
      r.in_progress_ms = now_ms;
    r.status = report.status;
    r.reason = report.reason;
    r.sequence = report.sequence;
    r.updated = FormatTime(now_ms);
    r.updated_ms = now_ms;
    if (report.kpi) r.kpi = report.kpi;
    VQI_RETURN_IF_ERROR(fleet.PutDeviceStatus(r));
    // The other live deployments united in the same desired state.
    VQI_ASSIGN_OR_RETURN(std::vector<Deployment> others, LiveDeploymentsOf(fleet, report.thing));
    for (const Deployment& o : others) {
      if (o.id == d.id) continue;
      auto other = fleet.GetDeviceStatus(o.id, report.thing);
      if (!other.ok() || other->sequence >= report.sequence ||
          !CheckTransition(other->status, report.status, false).ok())
        continue;
      if (report.status == DeviceStatus::kInProgress && other->in_progress_ms < 0)
        other->in_progress_ms = now_ms;
      other->status = report.status;
      other->reason = "via " + d.id + (report.reason.empty() ? "" : ": " + report.reason);
      other->sequence = report.sequence;
      other->updated = r.updated;
      other->updated_ms = now_ms;
      if (report.kpi) other->kpi = report.kpi;
      VQI_RETURN_IF_ERROR(fleet.PutDeviceStatus(*other));
    }
    return Status::Ok();
  }));
  return r;
}

Status SetDeviceStatus(FleetStore& fleet, const std::string& deployment_id,
                       const std::string& thing, DeviceStatus status, const std::string& reason,
                       int64_t now_ms) {
  return fleet.InTransaction([&]() -> Status {
    VQI_ASSIGN_OR_RETURN(DeviceStatusRecord r, fleet.GetDeviceStatus(deployment_id, thing));
    VQI_RETURN_IF_ERROR(CheckTransition(r.status, status, true));
    if (status == DeviceStatus::kQueued && r.notified_ms < 0) r.notified_ms = now_ms;
    r.status = status;
    r.reason = reason;
    r.updated = FormatTime(now_ms);
    r.updated_ms = now_ms;
    return fleet.PutDeviceStatus(r);
  });
}

}  // namespace vqi::fleet
