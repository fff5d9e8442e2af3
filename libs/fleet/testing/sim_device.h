// Test support: a simulated device speaking the REAL protocol over MQTT (target
// vqi_fleet_testing; never linked into vqi or vqi-agent). Each SimDevice is an MqttClient with
// its own device certificate (CN = thing): it subscribes to its desired topic, checks each
// vqi-desired/1 document (thing, sequence above the last applied, parser), "installs" it at
// once or after a delay, and answers with vqi-status/1 reports (IN_PROGRESS, then the terminal
// status, then — when the desired state asks for a KPI and the script gives one — a repeat of
// SUCCEEDED with `kpi`, as the agent does after its samples). A script decides per document.
// Also sends vqi-health/1 heartbeats on request.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/fleet/desired_state.h"
#include "vqi/fleet/status_report.h"
#include "vqi/transport/mqtt_client.h"

namespace vqi::fleet::testing {

// What the device does with one desired state.
struct SimBehavior {
  DeviceStatus outcome = DeviceStatus::kSucceeded;  // SUCCEEDED | FAILED_* | REJECTED
  int delay_ms = 0;                                 // between IN_PROGRESS and the terminal report
  std::optional<double> kpi_before, kpi_after;      // sent when the desired state has `kpi`
  bool silent = false;                              // receive but never answer
};
using SimScript = std::function<SimBehavior(const DesiredState&)>;

struct SimDeviceOptions {
  std::string thing;
  std::string host = "127.0.0.1";
  int port = 0;
  std::string ca_file, cert_file, key_file;
  SimScript script;  // null: always succeed at once
};

// One received desired-state message, as the device saw it.
struct SimReceived {
  std::chrono::steady_clock::time_point at;
  bool cleared = false;  // an empty retained message (the thing was revoked)
  DesiredState state;    // when !cleared
};

class SimDevice {
 public:
  // Connects (waits up to 10 s) and subscribes to its desired topic.
  static Result<std::unique_ptr<SimDevice>> Start(const SimDeviceOptions& options);
  ~SimDevice();

  const std::string& thing() const { return o_.thing; }
  // Accepted documents (sequence above the last applied), in arrival order.
  std::vector<SimReceived> Received() const;
  // What the device runs now: component -> version (the last SUCCEEDED desired state's set;
  // a failed one leaves the previous set, as the agent's rollback does).
  std::map<std::string, std::string> Running() const;
  int64_t LastSequence() const;
  uint64_t Ignored() const;  // replayed / wrong / garbage documents
  // Waits until `pred(Received())` holds or the timeout passes; returns whether it held.
  bool WaitUntil(const std::function<bool(const std::vector<SimReceived>&)>& pred,
                 int timeout_ms) const;
  // Publishes a heartbeat now.
  Status SendHeartbeat(int64_t uptime_seconds = 1);
  // Publishes raw text on its own status topic (hostile-input tests).
  Status PublishRawStatus(const std::string& payload);
  // Publishes `payload` on `topic` (QoS 1) with the device's identity, e.g. its shadow
  // statistics on topics::ShadowTopic (the broker's ACL decides what it may write).
  Status Publish(const std::string& topic, const std::string& payload);
  void Disconnect();

 private:
  explicit SimDevice(SimDeviceOptions o) : o_(std::move(o)) {}
  Status OnDesired(const transport::MqttMessage& m);
  void Work();
  Status Report(const DesiredState& d, DeviceStatus s, const std::string& reason,
                const std::optional<KpiReport>& kpi);

  SimDeviceOptions o_;
  std::unique_ptr<transport::MqttClient> client_;
  std::thread worker_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::deque<DesiredState> todo_;
  std::vector<SimReceived> received_;
  std::map<std::string, std::string> running_;
  int64_t last_sequence_ = 0;
  int64_t report_sequence_ = 0;
  uint64_t ignored_ = 0;
  bool stop_ = false;
};

}  // namespace vqi::fleet::testing
