// The fleet controller (controller.h, docs/design/fleet.md "Controller"): lifecycle, the
// loop, creation. Inbound messages: controller_inbound.cc; rollouts and publishing:
// controller_outbound.cc.
#include "vqi/fleet/controller.h"

#include <algorithm>
#include <cctype>

#include "controller_impl.h"
#include "vqi/base/log.h"
#include "vqi/fleet/identity.h"
#include "vqi/transport/topics.h"

namespace vqi::fleet {

namespace topics = transport::topics;

Status FleetController::Impl::Start() {
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
      // A broker that crashed lost up to autosave_interval of retained messages: every
      // connect re-publishes each thing's latest desired state (the loop does it; devices
      // ignore a sequence they already have).
      republish_ = true;
      republish_wake_ = true;
      republish_from_.clear();
      cv_.notify_all();
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

void FleetController::Impl::Stop(int timeout_ms) {
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

ControllerStats FleetController::Impl::Stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

// MQTT network thread: queue only.
Status FleetController::Impl::Receive(const transport::MqttMessage& m) {
  {
    std::lock_guard lock(mu_);
    if (inbox_.size() >= o_.max_inbox) {
      ++stats_.inbox_dropped;
      return ResourceExhausted("fleet controller: " + std::to_string(o_.max_inbox) +
                               " messages wait for the loop (max_inbox); " + m.topic + " dropped");
    }
    inbox_.push_back(m);
  }
  cv_.notify_all();
  return Status::Ok();
}

void FleetController::Impl::Loop() {
  int64_t next_tick = 0;
  int64_t seen_version = -1;
  while (true) {
    std::deque<transport::MqttMessage> batch;
    {
      std::unique_lock lock(mu_);
      const int64_t wait = std::clamp<int64_t>(next_tick - clock_->NowMs(), 0, kChangeCheckMs);
      cv_.wait_for(lock, std::chrono::milliseconds(wait),
                   [&] { return stopping_ || !inbox_.empty() || republish_wake_; });
      if (stopping_) return;
      republish_wake_ = false;
      batch.swap(inbox_);
    }
    Republish();
    for (const transport::MqttMessage& m : batch) Handle(m);
    // Another process committed (a deployment created, a thing revoked): step now rather
    // than at the next poll.
    if (auto v = fleet_->ChangeCounter(); v.ok()) {
      if (seen_version >= 0 && *v != seen_version) next_tick = 0;
      seen_version = *v;
    }
    if (clock_->NowMs() >= next_tick) {
      Tick();
      next_tick = clock_->NowMs() + o_.poll_interval_ms;
    }
  }
}

// Logged at most once a minute per `what` (a failing step is retried every poll).
void FleetController::Impl::LoopError(const std::string& what, const Status& s) {
  const int64_t now = clock_->NowMs();
  auto it = last_logged_.find(what);
  if (it == last_logged_.end() || now - it->second >= 60000) {
    VQI_LOG_ERROR("fleet controller: {}: {} (retried at the next poll)", what, s.ToString());
    if (last_logged_.size() > 1000) last_logged_.clear();
    last_logged_[what] = now;
  }
  std::lock_guard lock(mu_);
  ++stats_.loop_errors;
  stats_.last_error = what + ": " + s.ToString();
}

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
  VQI_ASSIGN_OR_RETURN(auto shadow, OpenSqliteShadowStore(ShadowDbPath(o.home)));
  auto impl = std::make_unique<Impl>(o, std::move(fleet), std::move(components), std::move(mqtt));
  impl->SetShadowStore(std::move(shadow));
  return std::unique_ptr<FleetController>(new FleetController(std::move(impl)));
}

FleetController::FleetController(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FleetController::~FleetController() { Stop(0); }
Status FleetController::Start() { return impl_->Start(); }
void FleetController::Stop(int timeout_ms) { impl_->Stop(timeout_ms); }
ControllerStats FleetController::Stats() const { return impl_->Stats(); }

}  // namespace vqi::fleet
