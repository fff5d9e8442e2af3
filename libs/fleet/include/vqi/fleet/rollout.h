// The staged rollout as pure logic (no clock, no MQTT, no store): given a deployment's rollout
// configuration, its things' statuses and the rollout state, at a time, what to do next.
// The server loop (next session) applies a decision: notify (publish desired state, record
// notified), mark TIMED_OUT / CANCELED, roll back, store the new state.
// docs/design/fleet.md ("Staged rollout").
//
// Thread-safety: RolloutPlanner is immutable after construction; Step may run concurrently.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/fleet/document.h"
#include "vqi/fleet/status_report.h"

namespace vqi::fleet {

enum class RolloutPhase { kRunning, kCompleted, kAborted, kHalted };
const char* RolloutPhaseName(RolloutPhase p);  // RUNNING COMPLETED ABORTED HALTED

struct RolloutState {
  RolloutPhase phase = RolloutPhase::kRunning;
  int64_t rate_per_minute = 0;   // current rate; 0 before the first step
  int64_t window_start_ms = -1;  // start of the current one-minute window
  int64_t notified_in_window = 0;
  int64_t notified_at_increase = 0;   // things notified when the rate last rose
  int64_t succeeded_at_increase = 0;  // things succeeded when the rate last rose
  std::string reason;                 // why it aborted or halted
  bool operator==(const RolloutState&) const = default;
};
std::string RolloutStateToJson(const RolloutState& s);
// InvalidArgument naming the field (stored state is ours, but a damaged store must not crash).
Result<RolloutState> RolloutStateFromJson(std::string_view text);

struct ThingRollout {
  std::string thing;
  DeviceStatus status = DeviceStatus::kQueued;
  int64_t notified_ms = -1;     // -1: not notified yet
  int64_t in_progress_ms = -1;  // when it first reported IN_PROGRESS
  std::optional<KpiReport> kpi;
  int64_t updated_ms = -1;  // when its status last changed (-1: unknown)
};

// The planner's time base. Production uses the defaults; tests shorten the "minute" (the rate
// window and the unit of inProgressTimeoutInMinutes) to run a staged rollout in seconds.
struct RolloutTiming {
  int64_t minute_ms = 60000;
  // With a KPI configured, a SUCCEEDED thing's KPI report may come after its SUCCEEDED (the
  // agent sends it once it has `window` samples, at most 60 s later): the rollout completes only
  // when every SUCCEEDED thing reported its KPI or has been SUCCEEDED this long.
  int64_t kpi_wait_ms = 120000;
};

struct RolloutDecision {
  std::vector<std::string> notify;     // send the desired state now, in rollout order
  std::vector<std::string> timed_out;  // IN_PROGRESS too long: mark TIMED_OUT
  std::vector<std::string> cancel;     // on abort/halt: unfinished things to mark CANCELED
  // On abort/halt: things to return to their previous desired state: SUCCEEDED ones and
  // unfinished ones that were already notified (they may still install the new set). Failed
  // things rolled back by themselves (or keep DO_NOTHING's result).
  std::vector<std::string> roll_back;
  RolloutState state;  // store it for the next step
};

class RolloutPlanner {
 public:
  explicit RolloutPlanner(RolloutConfig config, RolloutTiming timing = {})
      : config_(std::move(config)), timing_(timing) {}
  // `things` in rollout order (the order things are notified). Once the phase is not RUNNING
  // the decision is empty and the state unchanged.
  RolloutDecision Step(int64_t now_ms, const std::vector<ThingRollout>& things,
                       const RolloutState& state) const;

 private:
  RolloutConfig config_;
  RolloutTiming timing_;
};

}  // namespace vqi::fleet
