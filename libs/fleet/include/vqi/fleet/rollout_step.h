// One rollout step of a stored deployment: the planner (rollout.h) over the store's statuses,
// its decision applied to the store in one transaction (notified things recorded, TIMED_OUT and
// CANCELED set, the rollout state saved). What the store cannot do — publishing desired states
// and rolling devices back — is returned for the caller (the server's MQTT loop, next session).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/fleet/rollout.h"
#include "vqi/fleet/store.h"

namespace vqi::fleet {

struct RolloutStepResult {
  std::vector<std::string> notify;     // publish their desired state now
  std::vector<std::string> roll_back;  // publish their previous desired state
  std::vector<std::string> timed_out;  // marked TIMED_OUT
  std::vector<std::string> canceled;   // marked CANCELED
  RolloutState state;
};

// NotFound for an unknown deployment. A deployment that is not live (canceled, superseded) or
// whose rollout is over returns an empty result with its stored state.
// `timing` is the planner's time base (rollout.h; tests shorten the minute).
Result<RolloutStepResult> AdvanceRollout(FleetStore& fleet, const std::string& deployment_id,
                                         int64_t now_ms, const RolloutTiming& timing = {});

}  // namespace vqi::fleet
