// The controller's outbound side: rollout steps, desired states into the store's outbox,
// publishing and acknowledgement (controller.h, docs/design/fleet.md "Publishing").
#include "controller_impl.h"
#include "vqi/base/log.h"
#include "vqi/fleet/deploy.h"
#include "vqi/fleet/rollout_step.h"
#include "vqi/fleet/shadow_promote.h"
#include "vqi/transport/topics.h"

namespace vqi::fleet {

namespace topics = transport::topics;

// Writes `s` (sequence assigned) to the outbox of its thing.
Result<int64_t> FleetController::Impl::Enqueue(DesiredState s, int64_t now) {
  VQI_ASSIGN_OR_RETURN(s.sequence, fleet_->NextDesiredSequence(s.thing));
  VQI_RETURN_IF_ERROR(
      fleet_->PutDesired({s.thing, s.sequence, s.deployment_id, DesiredStateToJson(s), true, now}));
  Count(&ControllerStats::desired_enqueued);
  return s.sequence;
}

// One rollout step of `d` and its desired states, in one transaction.
Status FleetController::Impl::StepDeployment(const Deployment& d, int64_t now) {
  return fleet_->InTransaction([&]() -> Status {
    VQI_ASSIGN_OR_RETURN(RolloutStepResult step, AdvanceRollout(*fleet_, d.id, now, o_.timing));
    for (const std::string& t : step.notify) {
      VQI_ASSIGN_OR_RETURN(Thing thing, fleet_->GetThing(t));
      if (!thing.revoked.empty()) {
        VQI_RETURN_IF_ERROR(
            SetDeviceStatus(*fleet_, d.id, t, DeviceStatus::kCanceled, "thing revoked", now));
        continue;
      }
      auto desired = ComputeDesiredState(*fleet_, *components_, t);
      if (!desired.ok()) {
        // Not the device's fault and not retryable by waiting: the thing fails this
        // deployment with the reason (it counts for the abort criteria).
        VQI_LOG_ERROR("fleet controller: {} {}: no desired state: {}", d.id, t,
                      desired.status().ToString());
        VQI_RETURN_IF_ERROR(SetDeviceStatus(*fleet_, d.id, t, DeviceStatus::kRejected,
                                            "server: " + desired.status().message(), now));
        continue;
      }
      VQI_RETURN_IF_ERROR(Enqueue(*desired, now).status());
    }
    for (const std::string& t : step.roll_back) {
      auto previous = RollbackDesiredState(*fleet_, *components_, t, d.id);
      if (!previous.ok()) {
        // The step (abort/halt, the other rollbacks) must still be stored: this thing keeps
        // its desired state, which people see in `vqi thing show`.
        LoopError(d.id + ": cannot roll back " + t, previous.status());
        continue;
      }
      VQI_ASSIGN_OR_RETURN(int64_t sequence, Enqueue(*previous, now));
      // The record keeps its (final) status; its reason says where the thing went, so
      // `vqi deployment status` shows the rollback.
      VQI_ASSIGN_OR_RETURN(DeviceStatusRecord r, fleet_->GetDeviceStatus(d.id, t));
      const std::string where =
          previous->components.empty()
              ? "rolled back: no components (desired sequence " + std::to_string(sequence) + ")"
              : "rolled back to " + previous->deployment_id + " (desired sequence " +
                    std::to_string(sequence) + ")";
      r.reason = r.reason.empty() ? where : r.reason + "; " + where;
      VQI_RETURN_IF_ERROR(fleet_->PutDeviceStatus(r));
    }
    if (!step.notify.empty())
      VQI_LOG_INFO("fleet controller: {}: notifying {} thing(s) (rate {}/min)", d.id,
                   step.notify.size(), step.state.rate_per_minute);
    if (step.state.phase != RolloutPhase::kRunning)
      VQI_LOG_INFO("fleet controller: {}: rollout {}{}{}", d.id, RolloutPhaseName(step.state.phase),
                   step.state.reason.empty() ? "" : ": " + step.state.reason,
                   step.roll_back.empty()
                       ? ""
                       : "; rolling back " + std::to_string(step.roll_back.size()) + " thing(s)");
    return Status::Ok();
  });
}

void FleetController::Impl::Tick() {
  const int64_t now = clock_->NowMs();
  {
    std::lock_guard lock(mu_);
    ++stats_.loops;
  }
  // Revoked things: clear their retained desired state.
  if (auto revoked = fleet_->RevokedThingsToClear(); !revoked.ok()) {
    LoopError("revoked things", revoked.status());
  } else {
    for (const std::string& t : *revoked) {
      if (Status s = fleet_->PutDesired({t, 0, "", "", true, now}); !s.ok())
        LoopError("clear " + t, s);
      else
        Count(&ControllerStats::desired_enqueued);
    }
  }
  auto deployments = fleet_->ListDeployments();
  if (!deployments.ok()) {
    LoopError("list deployments", deployments.status());
  } else {
    for (const Deployment& d : *deployments) {
      if (!d.live()) continue;
      if (!d.rollout_state.empty()) {
        auto st = RolloutStateFromJson(d.rollout_state);
        if (st.ok() && st->phase != RolloutPhase::kRunning) continue;
      }
      if (Status s = StepDeployment(d, now); !s.ok()) LoopError(d.id + ": rollout step", s);
    }
    PromoteShadows(*deployments, now);
  }
  Flush();
}

void FleetController::Impl::PromoteShadows(const std::vector<Deployment>& deployments,
                                           int64_t now) {
  if (!shadow_) return;
  for (const Deployment& d : deployments) {
    if (!d.live() || d.document.find("\"vqiShadow\"") == std::string::npos) continue;
    if (!d.rollout_state.empty()) {  // an aborted or halted rollout promotes nothing
      auto st = RolloutStateFromJson(d.rollout_state);
      if (st.ok() && st->phase != RolloutPhase::kRunning && st->phase != RolloutPhase::kCompleted)
        continue;
    }
    auto promoted = MaybePromote(*fleet_, *components_, *shadow_, d, FormatUtcSeconds(now));
    if (!promoted.ok()) {
      LoopError(d.id + ": shadow promotion", promoted.status());
    } else if (!promoted->empty()) {
      Count(&ControllerStats::promotions);
    }
  }
}

// Publishes every pending outbox record not yet handed to the client; marks them published
// once the client has nothing unacknowledged.
void FleetController::Impl::Flush() {
  auto pending = fleet_->PendingDesired();
  if (!pending.ok()) return LoopError("pending desired states", pending.status());
  for (const DesiredRecord& r : *pending) {
    auto it = handed_.find(r.thing);
    if (it != handed_.end() && it->second.first == r.sequence && it->second.second == r.payload)
      continue;
    Status s = mqtt_->Publish(topics::DesiredTopic(r.thing), r.payload, 1, /*retain=*/true);
    if (s.code() == StatusCode::kResourceExhausted) {
      LoopError("publish", s);  // the client's queue is full: the rest waits in the outbox
      break;
    }
    if (!s.ok()) {
      LoopError("publish desired state of " + r.thing, s);
      continue;
    }
    handed_[r.thing] = {r.sequence, r.payload};
  }
  MarkAcknowledged();
}

void FleetController::Impl::Republish() {
  std::string from;
  {
    std::lock_guard lock(mu_);
    if (!republish_) return;
    from = republish_from_;
  }
  auto things = fleet_->ListThings();  // by name
  if (!things.ok()) return LoopError("republish: list things", things.status());
  int64_t count = 0;
  for (const Thing& t : *things) {
    if (t.name < from) continue;
    auto rec = fleet_->GetDesired(t.name);
    if (!rec.ok()) {
      LoopError("republish " + t.name, rec.status());
      continue;
    }
    // Pending records are Flush's; an acknowledged clear ("") stays cleared.
    if (!rec->has_value() || (*rec)->pending || (*rec)->payload.empty()) continue;
    Status s = mqtt_->Publish(topics::DesiredTopic(t.name), (*rec)->payload, 1, /*retain=*/true);
    if (s.code() == StatusCode::kResourceExhausted) {
      std::lock_guard lock(mu_);
      republish_from_ = t.name;  // the client's queue is full: go on at the next loop
      return;
    }
    if (!s.ok()) LoopError("republish desired state of " + t.name, s);
    ++count;
  }
  std::lock_guard lock(mu_);
  republish_ = false;
  republish_from_.clear();
  stats_.desired_republished += count;
}

void FleetController::Impl::MarkAcknowledged() {
  if (handed_.empty() || mqtt_->Stats().queued != 0) return;
  for (const auto& [thing, rec] : handed_) {
    if (Status s = fleet_->MarkDesiredPublished(thing, rec.first, rec.second); !s.ok()) {
      LoopError("mark published " + thing, s);
      return;  // kept in handed_: marked at a later poll
    }
    Count(&ControllerStats::desired_published);
  }
  handed_.clear();
}

}  // namespace vqi::fleet
