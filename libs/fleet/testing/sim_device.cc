#include "fleet/testing/sim_device.h"

#include "vqi/fleet/health.h"
#include "vqi/transport/topics.h"

namespace vqi::fleet::testing {

namespace topics = transport::topics;

Result<std::unique_ptr<SimDevice>> SimDevice::Start(const SimDeviceOptions& options) {
  std::unique_ptr<SimDevice> d(new SimDevice(options));
  transport::MqttOptions mo;
  mo.host = options.host;
  mo.port = options.port;
  mo.client_id = options.thing;
  mo.ca_file = options.ca_file;
  mo.cert_file = options.cert_file;
  mo.key_file = options.key_file;
  mo.reconnect_min_ms = 100;
  mo.reconnect_max_ms = 1000;
  mo.connect_timeout_ms = 5000;
  VQI_ASSIGN_OR_RETURN(d->client_, transport::MqttClient::Create(mo));
  SimDevice* raw = d.get();
  d->client_->OnMessage([raw](const transport::MqttMessage& m) { return raw->OnDesired(m); });
  VQI_RETURN_IF_ERROR(d->client_->Subscribe(topics::DesiredTopic(options.thing), 1));
  VQI_RETURN_IF_ERROR(d->client_->Connect());
  VQI_RETURN_IF_ERROR(d->client_->WaitConnected(10000));
  d->worker_ = std::thread([raw] { raw->Work(); });
  return d;
}

SimDevice::~SimDevice() { Disconnect(); }

void SimDevice::Disconnect() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
  if (client_) (void)client_->Disconnect(1000);
}

Status SimDevice::OnDesired(const transport::MqttMessage& m) {
  std::lock_guard lock(mu_);
  if (m.payload.empty()) {
    received_.push_back({std::chrono::steady_clock::now(), true, {}});
    cv_.notify_all();
    return Status::Ok();
  }
  auto d = ParseDesiredState(m.payload, o_.thing);
  if (!d.ok()) {
    ++ignored_;
    return d.status();
  }
  if (d->sequence <= last_sequence_) {
    ++ignored_;
    return Status::Ok();  // a replay (retained again after a resubscribe): not garbage
  }
  last_sequence_ = d->sequence;
  received_.push_back({std::chrono::steady_clock::now(), false, *d});
  todo_.push_back(*d);
  cv_.notify_all();
  return Status::Ok();
}

Status SimDevice::Report(const DesiredState& d, DeviceStatus s, const std::string& reason,
                         const std::optional<KpiReport>& kpi) {
  StatusReport r;
  r.thing = o_.thing;
  r.deployment_id = d.deployment_id;
  {
    std::lock_guard lock(mu_);
    r.sequence = ++report_sequence_;
    for (const auto& [name, version] : running_) r.components[name] = {version, "RUNNING"};
  }
  r.status = s;
  r.reason = reason;
  r.kpi = kpi;
  r.at = "2026-12-06T10:00:00Z";
  return client_->Publish(topics::StatusTopic(o_.thing), StatusReportToJson(r), 1);
}

void SimDevice::Work() {
  while (true) {
    DesiredState d;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !todo_.empty(); });
      if (stop_) return;
      d = todo_.front();
      todo_.pop_front();
    }
    const SimBehavior b = o_.script ? o_.script(d) : SimBehavior{};
    if (b.silent) continue;
    (void)Report(d, DeviceStatus::kInProgress, "", std::nullopt);
    if (b.delay_ms > 0) {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, std::chrono::milliseconds(b.delay_ms), [&] { return stop_; })) return;
    }
    if (b.outcome == DeviceStatus::kSucceeded) {
      std::lock_guard lock(mu_);
      running_.clear();
      for (const auto& [name, c] : d.components) running_[name] = c.version;
    }
    (void)Report(d, b.outcome, b.outcome == DeviceStatus::kSucceeded ? "" : "simulated failure",
                 std::nullopt);
    if (b.outcome == DeviceStatus::kSucceeded && d.kpi && b.kpi_before && b.kpi_after)
      (void)Report(d, DeviceStatus::kSucceeded, "",
                   KpiReport{d.kpi->metric, *b.kpi_before, *b.kpi_after, d.kpi->window});
  }
}

std::vector<SimReceived> SimDevice::Received() const {
  std::lock_guard lock(mu_);
  return received_;
}

std::map<std::string, std::string> SimDevice::Running() const {
  std::lock_guard lock(mu_);
  return running_;
}

int64_t SimDevice::LastSequence() const {
  std::lock_guard lock(mu_);
  return last_sequence_;
}

uint64_t SimDevice::Ignored() const {
  std::lock_guard lock(mu_);
  return ignored_;
}

bool SimDevice::WaitUntil(const std::function<bool(const std::vector<SimReceived>&)>& pred,
                          int timeout_ms) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return pred(received_); });
}

Status SimDevice::SendHeartbeat(int64_t uptime_seconds) {
  HealthReport h;
  h.thing = o_.thing;
  h.at = "2026-12-06T10:00:00Z";
  h.uptime_seconds = uptime_seconds;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, version] : running_) h.components[name] = {version, "RUNNING"};
  }
  h.bytes_downloaded = 0;
  h.bytes_from_cache = 0;
  h.pss_kb = 4096;
  return client_->Publish(topics::HealthTopic(o_.thing), HealthReportToJson(h), 1);
}

Status SimDevice::PublishRawStatus(const std::string& payload) {
  return client_->Publish(topics::StatusTopic(o_.thing), payload, 1);
}

Status SimDevice::Publish(const std::string& topic, const std::string& payload) {
  return client_->Publish(topic, payload, 1);
}

}  // namespace vqi::fleet::testing
