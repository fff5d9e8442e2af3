// The fleet controller (controller.h, docs/design/fleet.md "Controller").
#include "vqi/fleet/controller.h"

#include <cctype>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "vqi/base/log.h"
#include "vqi/component/store.h"
#include "vqi/fleet/deploy.h"
#include "vqi/fleet/health.h"
#include "vqi/fleet/identity.h"
#include "vqi/fleet/rollout_step.h"
#include "vqi/fleet/store.h"
#include "vqi/transport/mqtt_client.h"
#include "vqi/transport/topics.h"

namespace vqi::fleet {

namespace topics = transport::topics;

class FleetController::Impl {
 public:
  Impl(ControllerOptions o, std::unique_ptr<FleetStore> fleet,
       std::unique_ptr<component::Store> components, std::unique_ptr<transport::MqttClient> mqtt)
      : o_(std::move(o)),
        clock_(o_.clock ? o_.clock : &RealClock()),
        fleet_(std::move(fleet)),
        components_(std::move(components)),
        mqtt_(std::move(mqtt)) {}

  Status Start() {
    {
      std::lock_guard lock(mu_);
      if (started_) return FailedPrecondition("fleet controller already started");
      started_ = true;
    }
    mqtt_->OnMessage([this](const transport::MqttMessage& m) { return Receive(m); });
    mqtt_->OnState([this](transport::ConnectionState s, const Status& error) {
      std::lock_guard lock(mu_);
      stats_.connected = s == transport::ConnectionState::kConnected;
      if (s == transport::ConnectionState::kConnected) {
        VQI_LOG_INFO("fleet controller: connected to the broker {}:{}", o_.mqtt_host, o_.mqtt_port);
      } else if (s == transport::ConnectionState::kReconnecting) {
        VQI_LOG_WARN("fleet controller: broker {}:{} unreachable, retrying: {}", o_.mqtt_host,
                     o_.mqtt_port, error.message());
      }
    });
    VQI_RETURN_IF_ERROR(mqtt_->Subscribe(topics::AllStatus(), 1));
    VQI_RETURN_IF_ERROR(mqtt_->Subscribe(topics::AllHealth(), 1));
    VQI_RETURN_IF_ERROR(mqtt_->Connect());
    thread_ = std::thread([this] { Loop(); });
    return Status::Ok();
  }

  void Stop(int timeout_ms) {
    {
      std::lock_guard lock(mu_);
      if (!started_ || stopped_) return;
      stopped_ = true;
      stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    // The loop thread is gone: this thread may use the stores now.
    Status s = mqtt_->Disconnect(timeout_ms);
    if (s.ok()) {
      MarkAcknowledged();
    } else {
      VQI_LOG_WARN("fleet controller: {} (they stay pending and are published at the next start)",
                   s.message());
    }
  }

  ControllerStats Stats() const {
    std::lock_guard lock(mu_);
    return stats_;
  }

 private:
  // MQTT network thread: queue only.
  Status Receive(const transport::MqttMessage& m) {
    {
      std::lock_guard lock(mu_);
      if (inbox_.size() >= o_.max_inbox) {
        ++stats_.inbox_dropped;
        return ResourceExhausted("fleet controller: " + std::to_string(o_.max_inbox) +
                                 " messages wait for the loop (max_inbox); " + m.topic +
                                 " dropped");
      }
      inbox_.push_back(m);
    }
    cv_.notify_all();
    return Status::Ok();
  }

  void Loop() {
    int64_t next_tick = 0;
    while (true) {
      std::deque<transport::MqttMessage> batch;
      {
        std::unique_lock lock(mu_);
        const int64_t wait = std::max<int64_t>(0, next_tick - clock_->NowMs());
        cv_.wait_for(lock, std::chrono::milliseconds(wait),
                     [&] { return stopping_ || !inbox_.empty(); });
        if (stopping_) return;
        batch.swap(inbox_);
      }
      for (const transport::MqttMessage& m : batch) Handle(m);
      if (clock_->NowMs() >= next_tick) {
        Tick();
        next_tick = clock_->NowMs() + o_.poll_interval_ms;
      }
    }
  }

  void Refuse(uint64_t ControllerStats::*counter, const std::string& what, const Status& why) {
    VQI_LOG_WARN("fleet controller: {} refused: {}", what, why.ToString());
    std::lock_guard lock(mu_);
    ++(stats_.*counter);
    stats_.last_error = what + ": " + why.ToString();
  }

  void Count(uint64_t ControllerStats::*counter) {
    std::lock_guard lock(mu_);
    ++(stats_.*counter);
  }

  // FailedPrecondition for a revoked thing (its certificate is on the CRL; a message that
  // still arrives was in flight).
  Status CheckActive(const std::string& thing) {
    VQI_ASSIGN_OR_RETURN(Thing t, fleet_->GetThing(thing));
    if (!t.revoked.empty()) return FailedPrecondition("thing " + thing + " was revoked");
    return Status::Ok();
  }

  void Handle(const transport::MqttMessage& m) {
    auto topic = topics::Parse(m.topic);
    if (!topic.ok()) {
      Refuse(&ControllerStats::other_refused, "message on " + m.topic.substr(0, 200),
             topic.status());
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

  void LoopError(const std::string& what, const Status& s) {
    VQI_LOG_ERROR("fleet controller: {}: {} (retried at the next poll)", what, s.ToString());
    std::lock_guard lock(mu_);
    ++stats_.loop_errors;
    stats_.last_error = what + ": " + s.ToString();
  }

  // Writes `s` (sequence assigned) to the outbox of its thing.
  Status Enqueue(DesiredState s, int64_t now) {
    VQI_ASSIGN_OR_RETURN(s.sequence, fleet_->NextDesiredSequence(s.thing));
    VQI_RETURN_IF_ERROR(fleet_->PutDesired(
        {s.thing, s.sequence, s.deployment_id, DesiredStateToJson(s), true, now}));
    Count(&ControllerStats::desired_enqueued);
    return Status::Ok();
  }

  // One rollout step of `d` and its desired states, in one transaction.
  Status StepDeployment(const Deployment& d, int64_t now) {
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
        VQI_RETURN_IF_ERROR(Enqueue(*desired, now));
      }
      for (const std::string& t : step.roll_back) {
        VQI_ASSIGN_OR_RETURN(DesiredState previous,
                             RollbackDesiredState(*fleet_, *components_, t, d.id));
        VQI_RETURN_IF_ERROR(Enqueue(previous, now));
      }
      if (!step.notify.empty())
        VQI_LOG_INFO("fleet controller: {}: notifying {} thing(s) (rate {}/min)", d.id,
                     step.notify.size(), step.state.rate_per_minute);
      if (step.state.phase != RolloutPhase::kRunning)
        VQI_LOG_INFO("fleet controller: {}: rollout {}{}{}", d.id,
                     RolloutPhaseName(step.state.phase),
                     step.state.reason.empty() ? "" : ": " + step.state.reason,
                     step.roll_back.empty()
                         ? ""
                         : "; rolling back " + std::to_string(step.roll_back.size()) + " thing(s)");
      return Status::Ok();
    });
  }

  void Tick() {
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
    }
    Flush();
  }

  // Publishes every pending outbox record not yet handed to the client; marks them published
  // once the client has nothing unacknowledged.
  void Flush() {
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

  void MarkAcknowledged() {
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

  ControllerOptions o_;
  Clock* clock_;
  std::unique_ptr<FleetStore> fleet_;
  std::unique_ptr<component::Store> components_;
  std::unique_ptr<transport::MqttClient> mqtt_;
  std::thread thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<transport::MqttMessage> inbox_;
  bool started_ = false, stopped_ = false, stopping_ = false;
  ControllerStats stats_;

  // Loop thread only: thing -> (sequence, payload) handed to the client, not yet marked.
  std::map<std::string, std::pair<int64_t, std::string>> handed_;
};

Status ParseMqttAddress(const std::string& text, ControllerOptions* options) {
  const size_t colon = text.rfind(':');
  auto bad = [&] {
    return InvalidArgument("--mqtt '" + text.substr(0, 128) +
                           "': expected HOST:PORT (e.g. 127.0.0.1:8883), PORT 1-65535");
  };
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size() ||
      text.size() - colon - 1 > 5)
    return bad();
  int port = 0;
  for (size_t i = colon + 1; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return bad();
    port = port * 10 + (text[i] - '0');
  }
  if (port < 1 || port > 65535) return bad();
  const std::string host = text.substr(0, colon);
  for (char c : host)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-')) return bad();
  options->mqtt_host = host;
  options->mqtt_port = port;
  return Status::Ok();
}

Result<std::unique_ptr<FleetController>> FleetController::Create(const ControllerOptions& o) {
  if (o.home.empty()) return InvalidArgument("fleet controller: home is empty");
  if (o.poll_interval_ms < 10 || o.poll_interval_ms > 60000)
    return InvalidArgument("fleet controller: poll_interval_ms is out of range 10..60000");
  if (o.timing.minute_ms < 100 || o.timing.kpi_wait_ms < 0)
    return InvalidArgument("fleet controller: rollout minute must be at least 100 ms");
  if (o.max_inbox < 1) return InvalidArgument("fleet controller: max_inbox must be at least 1");
  IdentityFiles id{o.ca_file, o.cert_file, o.key_file};
  if (id.ca_file.empty() && id.cert_file.empty() && id.key_file.empty()) {
    VQI_ASSIGN_OR_RETURN(id, EnsureClientIdentity(o.home, std::string(topics::kServerIdentity)));
  }
  VQI_ASSIGN_OR_RETURN(auto fleet, OpenSqliteFleetStore(FleetDbPath(o.home)));
  VQI_ASSIGN_OR_RETURN(auto components,
                       component::OpenSqliteStore(component::ComponentsDbPath(o.home)));
  transport::MqttOptions mo;
  mo.host = o.mqtt_host;
  mo.port = o.mqtt_port;
  mo.client_id = std::string(topics::kServerIdentity);
  mo.ca_file = id.ca_file;
  mo.cert_file = id.cert_file;
  mo.key_file = id.key_file;
  mo.reconnect_min_ms = std::min(500, o.reconnect_max_ms);
  mo.reconnect_max_ms = o.reconnect_max_ms;
  mo.connect_timeout_ms = 5000;
  mo.max_queued = 100000;
  VQI_ASSIGN_OR_RETURN(auto mqtt, transport::MqttClient::Create(mo));
  return std::unique_ptr<FleetController>(new FleetController(
      std::make_unique<Impl>(o, std::move(fleet), std::move(components), std::move(mqtt))));
}

FleetController::FleetController(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FleetController::~FleetController() { Stop(0); }
Status FleetController::Start() { return impl_->Start(); }
void FleetController::Stop(int timeout_ms) { impl_->Stop(timeout_ms); }
ControllerStats FleetController::Stats() const { return impl_->Stats(); }

}  // namespace vqi::fleet
