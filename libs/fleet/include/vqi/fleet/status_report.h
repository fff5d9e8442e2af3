// The status report (device → server on vqi/v1/things/<thing>/status, schema "vqi-status/1",
// docs/design/fleet.md) and the per-device deployment status values. Part of the small
// `vqi::fleet_protocol` target (libs/base only), shared by the server and vqi-agent.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "vqi/base/status.h"

namespace vqi::fleet {

inline constexpr std::string_view kStatusSchema = "vqi-status/1";
// Largest status report the server reads (docs/limits.md, "Fleet").
inline constexpr size_t kMaxStatusBytes = 64 * 1024;

enum class DeviceStatus {
  kQueued,
  kInProgress,
  kSucceeded,
  kFailedRollbackComplete,
  kFailedNoRollback,
  kRejected,
  kTimedOut,
  kCanceled,
};

// "QUEUED", "IN_PROGRESS", ... as on the wire.
const char* DeviceStatusName(DeviceStatus s);
// InvalidArgument naming the accepted values.
Result<DeviceStatus> ParseDeviceStatus(std::string_view name);
// SUCCEEDED, FAILED_*, REJECTED, TIMED_OUT, CANCELED.
bool IsTerminal(DeviceStatus s);
// A failure for rollout abort counting: FAILED_*, REJECTED, TIMED_OUT.
bool IsFailure(DeviceStatus s);

// Greengrass component states: NEW INSTALLED STARTING RUNNING FINISHED STOPPING ERRORED BROKEN.
Status ValidateComponentState(std::string_view state);

struct ComponentReport {
  std::string version;
  std::string state;  // one of the component states above
  bool operator==(const ComponentReport&) const = default;
};

// A device-measured application metric before and after the update (vqiRolloutConfig.kpi).
struct KpiReport {
  std::string metric;
  double before = 0;
  double after = 0;
  int64_t samples = 0;
  bool operator==(const KpiReport&) const = default;
};

struct StatusReport {
  std::string thing;
  std::string deployment_id;
  int64_t sequence = 0;  // per thing, strictly increasing over the device's reports
  DeviceStatus status = DeviceStatus::kQueued;
  std::string reason;
  std::map<std::string, ComponentReport> components;
  std::optional<KpiReport> kpi;
  std::string at;  // RFC 3339 UTC, as the device saw it
  bool operator==(const StatusReport&) const = default;
};

std::string StatusReportToJson(const StatusReport& report);

// Parses untrusted text from `sender` (the thing the topic / certificate names). Refused with
// a reason: ResourceExhausted past kMaxStatusBytes; InvalidArgument for bad JSON, wrong schema,
// unknown keys, status or component state; PermissionDenied when `thing` is not `sender`.
Result<StatusReport> ParseStatusReport(std::string_view text, std::string_view sender);

}  // namespace vqi::fleet
