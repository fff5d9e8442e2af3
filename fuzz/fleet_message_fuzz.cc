// libFuzzer: everything the fleet reads from outside — Greengrass CreateDeployment documents,
// status reports and heartbeats from devices, desired-state documents on the device, stored
// rollout state.
// A parsed value must serialize and parse back to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "vqi/fleet/desired_state.h"
#include "vqi/fleet/document.h"
#include "vqi/fleet/health.h"
#include "vqi/fleet/rollout.h"
#include "vqi/fleet/status_report.h"

using namespace vqi::fleet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)ParseDeploymentDocument(text, "fuzz");
  (void)RolloutStateFromJson(text);
  if (auto r = ParseStatusReport(text, "cam-1"); r.ok()) {
    auto back = ParseStatusReport(StatusReportToJson(*r), "cam-1");
    if (!back.ok() || !(*back == *r)) std::abort();
  }
  if (auto h = ParseHealthReport(text, "cam-1"); h.ok()) {
    auto back = ParseHealthReport(HealthReportToJson(*h), "cam-1");
    if (!back.ok() || !(*back == *h)) std::abort();
  }
  if (auto d = ParseDesiredState(text); d.ok()) {
    auto back = ParseDesiredState(DesiredStateToJson(*d));
    if (!back.ok() || !(*back == *d)) std::abort();
  }
  return 0;
}
