// The controller's inbound side: status reports and heartbeats from devices (controller.h).
#include "controller_impl.h"
#include "vqi/base/log.h"
#include "vqi/fleet/deploy.h"
#include "vqi/fleet/health.h"
#include "vqi/transport/topics.h"

namespace vqi::fleet {

namespace topics = transport::topics;

void FleetController::Impl::Refuse(uint64_t ControllerStats::*counter, const std::string& what,
                                   const Status& why) {
  VQI_LOG_WARN("fleet controller: {} refused: {}", what, why.ToString());
  std::lock_guard lock(mu_);
  ++(stats_.*counter);
  stats_.last_error = what + ": " + why.ToString();
}

void FleetController::Impl::Count(uint64_t ControllerStats::*counter) {
  std::lock_guard lock(mu_);
  ++(stats_.*counter);
}

// FailedPrecondition for a revoked thing (its certificate is on the CRL; a message that
// still arrives was in flight).
Status FleetController::Impl::CheckActive(const std::string& thing) {
  VQI_ASSIGN_OR_RETURN(Thing t, fleet_->GetThing(thing));
  if (!t.revoked.empty()) return FailedPrecondition("thing " + thing + " was revoked");
  return Status::Ok();
}

void FleetController::Impl::Handle(const transport::MqttMessage& m) {
  auto topic = topics::Parse(m.topic);
  if (!topic.ok()) {
    Refuse(&ControllerStats::other_refused, "message on " + m.topic.substr(0, 200), topic.status());
    return;
  }
  const int64_t now = clock_->NowMs();
  const std::string& thing = topic->thing;
  if (topic->kind == topics::Kind::kStatus) {
    const std::string what = "status report from " + thing;
    auto report = ParseStatusReport(m.payload, thing);
    if (!report.ok()) return Refuse(&ControllerStats::status_refused, what, report.status());
    if (Status s = CheckActive(thing); !s.ok())
      return Refuse(&ControllerStats::status_refused, what, s);
    // A report on a record that is already final (a device answering the previous desired
    // state it was rolled back to, or finishing after a cancel) is stale, not garbage.
    if (auto rec = fleet_->GetDeviceStatus(report->deployment_id, thing);
        rec.ok() && IsTerminal(rec->status) &&
        !(report->status == rec->status && report->kpi.has_value())) {
      VQI_LOG_INFO(
          "fleet controller: stale status report from {} for {} ({}, already {}): "
          "ignored",
          thing, report->deployment_id, DeviceStatusName(report->status),
          DeviceStatusName(rec->status));
      (void)fleet_->RecordSeen(thing, now, "");
      return Count(&ControllerStats::status_stale);
    }
    auto applied = ApplyStatusReport(*fleet_, *report, now);
    if (!applied.ok()) return Refuse(&ControllerStats::status_refused, what, applied.status());
    (void)fleet_->RecordSeen(thing, now, "");
    VQI_LOG_DEBUG("fleet controller: {} {} {}", thing, report->deployment_id,
                  DeviceStatusName(report->status));
    Count(&ControllerStats::status_applied);
  } else if (topic->kind == topics::Kind::kHealth) {
    const std::string what = "heartbeat from " + thing;
    auto health = ParseHealthReport(m.payload, thing);
    if (!health.ok()) return Refuse(&ControllerStats::health_refused, what, health.status());
    if (Status s = CheckActive(thing); !s.ok())
      return Refuse(&ControllerStats::health_refused, what, s);
    if (Status s = fleet_->RecordSeen(thing, now, HealthReportToJson(*health)); !s.ok())
      return Refuse(&ControllerStats::health_refused, what, s);
    Count(&ControllerStats::health_stored);
  } else {
    Refuse(&ControllerStats::other_refused, "message on " + m.topic,
           InvalidArgument("the controller reads status and health only"));
  }
}

}  // namespace vqi::fleet
