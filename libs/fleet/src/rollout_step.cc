#include "vqi/fleet/rollout_step.h"

#include "vqi/fleet/deploy.h"
#include "vqi/fleet/document.h"

namespace vqi::fleet {

Result<RolloutStepResult> AdvanceRollout(FleetStore& fleet, const std::string& deployment_id,
                                         int64_t now_ms, const RolloutTiming& timing) {
  RolloutStepResult out;
  VQI_RETURN_IF_ERROR(fleet.InTransaction([&]() -> Status {
    VQI_ASSIGN_OR_RETURN(Deployment d, fleet.GetDeployment(deployment_id));
    RolloutState state;
    if (!d.rollout_state.empty()) {
      auto s = RolloutStateFromJson(d.rollout_state);
      if (!s.ok()) return DataLoss(d.id + ": stored rollout state: " + s.status().message());
      state = *s;
    }
    out.state = state;
    if (!d.live()) return Status::Ok();
    VQI_ASSIGN_OR_RETURN(DeploymentDocument doc, ParseDeploymentDocument(d.document, d.id));
    VQI_ASSIGN_OR_RETURN(std::vector<DeviceStatusRecord> records, fleet.DeviceStatuses(d.id));
    std::vector<ThingRollout> things;
    for (const DeviceStatusRecord& r : records)
      things.push_back({r.thing, r.status, r.notified_ms, r.in_progress_ms, r.kpi, r.updated_ms});
    const RolloutDecision decision =
        RolloutPlanner(doc.rollout, timing).Step(now_ms, things, state);
    for (const std::string& t : decision.notify)
      VQI_RETURN_IF_ERROR(SetDeviceStatus(fleet, d.id, t, DeviceStatus::kQueued, "", now_ms));
    const std::string timeout_reason = "IN_PROGRESS longer than " +
                                       std::to_string(doc.rollout.in_progress_timeout_minutes) +
                                       " minutes";
    for (const std::string& t : decision.timed_out)
      VQI_RETURN_IF_ERROR(
          SetDeviceStatus(fleet, d.id, t, DeviceStatus::kTimedOut, timeout_reason, now_ms));
    for (const std::string& t : decision.cancel)
      VQI_RETURN_IF_ERROR(
          SetDeviceStatus(fleet, d.id, t, DeviceStatus::kCanceled, decision.state.reason, now_ms));
    if (!(decision.state == state))
      VQI_RETURN_IF_ERROR(fleet.SetRolloutState(d.id, RolloutStateToJson(decision.state)));
    out.notify = decision.notify;
    out.roll_back = decision.roll_back;
    out.timed_out = decision.timed_out;
    out.canceled = decision.cancel;
    out.state = decision.state;
    return Status::Ok();
  }));
  return out;
}

}  // namespace vqi::fleet
