// The desired-state document (server → device, schema "vqi-desired/1", docs/design/fleet.md):
// what a thing must run. Built by the server (libs/fleet deploy.h), parsed by vqi-agent. Part of
// the small `vqi::fleet_protocol` target (libs/base only) so the agent links nothing server-side.
//
//   {"schema": "vqi-desired/1", "thing": "cam-1", "deploymentId": "dep-3", "sequence": 7,
//    "components": {"com.acme.Model": {"version": "1.2.0",
//                   "configurationUpdate": {"merge": "{\"a\":1}", "reset": ["/b"]}}},
//    "failureHandlingPolicy": "ROLLBACK",
//    "componentUpdatePolicy": {"timeoutInSeconds": 60, "action": "NOTIFY_COMPONENTS"},
//    "timeouts": {"configurationValidationSeconds": 30},
//    "kpi": {"metric": "defect_rate", "window": 200},          (optional)
//    "shadow": {"component": "vqi.model.tags", "version": "1.0.1"}}   (optional, shadow.md)
//
// `components` is the full resolved set with exact versions (dependencies included). A device
// ignores a document whose `sequence` is not above the last one it applied.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/status.h"

namespace vqi::fleet {

inline constexpr std::string_view kDesiredSchema = "vqi-desired/1";
// Largest desired-state document a device accepts (docs/limits.md, "Fleet").
inline constexpr size_t kMaxDesiredBytes = 1 << 20;

struct ConfigurationUpdate {
  std::optional<std::string> merge;  // JSON text of an object, as Greengrass sends it
  std::vector<std::string> reset;    // JSON pointers
  bool operator==(const ConfigurationUpdate&) const = default;
};

struct DesiredComponent {
  std::string version;  // exact
  std::optional<ConfigurationUpdate> configuration_update;
  bool operator==(const DesiredComponent&) const = default;
};

// What a device measures for a KPI-guarded rollout (CreateDeployment's vqiRolloutConfig.kpi):
// the mean of `metric` over the last `window` samples before the update and the first `window`
// after it, reported as the status report's `kpi`.
struct KpiSpec {
  std::string metric;    // 1-128 bytes (as the deployment document)
  int64_t window = 200;  // 1..100000
  bool operator==(const KpiSpec&) const = default;
};

// A candidate model version the device fetches (verified like any component) without running
// a lifecycle, for the inspection component to run in the shadow of the live one
// (docs/design/shadow.md).
struct ShadowSpec {
  std::string component;  // a component of `components` (its live version differs)
  std::string version;
  bool operator==(const ShadowSpec&) const = default;
};

struct DesiredState {
  std::string thing;
  std::string deployment_id;
  int64_t sequence = 0;
  std::map<std::string, DesiredComponent> components;
  std::string failure_handling_policy = "ROLLBACK";  // ROLLBACK | DO_NOTHING
  int64_t component_update_timeout_seconds = 60;
  std::string component_update_action = "NOTIFY_COMPONENTS";  // | SKIP_NOTIFY_COMPONENTS
  int64_t configuration_validation_timeout_seconds = 30;
  std::optional<KpiSpec> kpi;        // "kpi": {"metric", "window"}; absent = no KPI measured
  std::optional<ShadowSpec> shadow;  // "shadow": {"component", "version"}; absent = none
  bool operator==(const DesiredState&) const = default;
};

// Compact JSON text (keys sorted).
std::string DesiredStateToJson(const DesiredState& state);

// Parses untrusted text. InvalidArgument naming the field for anything malformed or unknown;
// ResourceExhausted past kMaxDesiredBytes. `expected_thing` (if not empty) must match `thing`.
Result<DesiredState> ParseDesiredState(std::string_view text, std::string_view expected_thing = {});

// Shared name and pointer rules (also used by the status report and the document parser).
// Thing and group names: [A-Za-z0-9][A-Za-z0-9._-]{0,127}. `what` starts the message.
Status ValidateThingName(std::string_view name, std::string_view what = "thing name");
// RFC 6901: "" or "/"-prefixed tokens where '~' is followed by 0 or 1.
Status ValidateJsonPointer(std::string_view pointer);

}  // namespace vqi::fleet
