// The heartbeat (device → server on vqi/v1/things/<thing>/health, schema "vqi-health/1",
// docs/design/fleet.md): what a device runs and how it is doing, sent every `--heartbeat`
// seconds and at connect. Part of the small `vqi::fleet_protocol` target (libs/base only).
//
//   {"schema": "vqi-health/1", "thing": "cam-1", "at": "2026-12-06T10:00:00Z",
//    "uptimeSeconds": 3600, "components": {"com.acme.Model": {"version": "1.2.0",
//    "state": "RUNNING"}}, "transfer": {"bytesDownloaded": 1024, "bytesFromCache": 0},
//    "pssKb": 5120}
//
// Parsed defensively: size and depth limited, every known field type- and range-checked,
// unknown keys ignored (a newer agent may add fields; only the known ones are kept). A
// component's `state` may be "" (not known yet); otherwise it is a Greengrass component state.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "vqi/base/status.h"
#include "vqi/fleet/status_report.h"

namespace vqi::fleet {

inline constexpr std::string_view kHealthSchema = "vqi-health/1";
// Largest heartbeat the server reads (docs/limits.md, "Fleet").
inline constexpr size_t kMaxHealthBytes = 64 * 1024;
inline constexpr size_t kMaxHealthComponents = 256;

struct HealthReport {
  std::string thing;
  std::string at;  // RFC 3339 UTC, as the device saw it (at most 64 bytes)
  int64_t uptime_seconds = 0;
  std::map<std::string, ComponentReport> components;
  std::optional<int64_t> bytes_downloaded;  // transfer.bytesDownloaded
  std::optional<int64_t> bytes_from_cache;  // transfer.bytesFromCache
  std::optional<int64_t> pss_kb;
  bool operator==(const HealthReport&) const = default;
};

// Compact JSON text with the known fields only.
std::string HealthReportToJson(const HealthReport& report);

// Parses untrusted text from `sender` (the topic's thing). ResourceExhausted past
// kMaxHealthBytes or kMaxHealthComponents; InvalidArgument naming the field for bad JSON, a
// wrong schema, a wrong type or range; PermissionDenied when `thing` is not `sender`.
Result<HealthReport> ParseHealthReport(std::string_view text, std::string_view sender);

}  // namespace vqi::fleet
