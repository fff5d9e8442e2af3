// The agent's network side (docs/design/agent.md "Network side"): desired state in over MQTT,
// status reports, heartbeats and KPI out. Threads: MqttClient's network thread only copies a
// received message into a bounded queue and wakes the engine (Engine::Wake); everything else
// — parsing, the replay check, queueing the deployment in state/inbox/, publishing — runs on
// the engine's thread from its hooks (Tick, OnStatus). Thread-compatible otherwise.
//
// Durable (<root>/state/, written with fsync + rename):
//   desired.json   the last accepted desired state {sequence, deploymentId, kpi?, at}: a
//                  message whose sequence is not above it is a replay
//   report.json    the last status report {sequence, report}: report sequences keep rising
//                  across restarts; the report is sent again after every (re)connect
// Informational (rename, no fsync): net.json {connected, rejectedMessages, rejected{reason: n},
// lastRejected, duplicates, accepted, reports, heartbeats} for `vqi-agent status`.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "vqi/agent/kpi.h"
#include "vqi/agent/state.h"
#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/fleet/desired_state.h"
#include "vqi/transport/mqtt_client.h"

namespace vqi::agent {

// Received messages waiting for the engine; beyond, a message is counted as rejected
// ("queue full") and dropped (docs/limits.md, Agent network side).
inline constexpr size_t kMaxPendingMessages = 16;
// Largest MQTT payload the agent's client takes in (the broker's max_packet_size is larger
// than fleet::kMaxDesiredBytes, so an oversized desired state reaches the parser, which says why).
inline constexpr size_t kMaxReceivedPayloadBytes = 4 << 20;

// MQTT settings from an agent bundle: agent.json "broker" ("host:port"), ca.pem, cert.pem,
// key.pem; client id = `thing`. InvalidArgument naming the file and field.
Result<transport::MqttOptions> MqttOptionsFromBundle(const std::string& bundle_dir,
                                                     const std::string& thing);

struct NetOptions {
  std::string thing;
  transport::MqttOptions mqtt;
  double heartbeat_seconds = 30;
  double kpi_max_wait_seconds = 60;
};

class NetAgent {
 public:
  // `components`: the engine's component states ({name: {version, state}}), engine thread.
  using ComponentStates = std::function<Json()>;
  // Called after a desired state was queued (Engine::CheckInboxNow).
  using Queued = std::function<void()>;
  static Result<std::unique_ptr<NetAgent>> Create(NetOptions options, Layout layout,
                                                  ComponentStates components,
                                                  Queued queued = nullptr);
  ~NetAgent();

  // Subscribes to the desired topic and starts connecting (returns at once; the client
  // reconnects with backoff for ever). The network thread runs with SIGCHLD, SIGTERM and
  // SIGINT blocked, so the engine's signal handling stays on its own thread.
  Status Start();
  // Engine hooks (engine thread).
  void Tick();
  void OnStatus(const Json& outcome, const Json& source);
  void OnPhase(const Json& deployment, const Json& source, const std::string& phase);
  // Waits up to `timeout_ms` for unacknowledged reports, then disconnects.
  void Stop(int timeout_ms = 2000);

  int64_t rejected() const { return rejected_total_; }
  // The MQTT client (issue 20: the outbound spool's sender publishes through it). Never null
  // after Create.
  transport::MqttClient* client() { return client_.get(); }

 private:
  NetAgent(NetOptions options, Layout layout, ComponentStates components, Queued queued);
  void HandleDesired(const transport::MqttMessage& m);
  void Reject(const std::string& kind, const std::string& reason);
  void Publish(const std::string& deployment_id, const std::string& status,
               const std::string& reason, const Json& components,
               const std::optional<fleet::KpiReport>& kpi);
  void Heartbeat();
  void WriteNetState();

  NetOptions o_;
  Layout layout_;
  ComponentStates components_;
  Queued queued_;
  std::unique_ptr<transport::MqttClient> client_;
  KpiTracker kpi_;
  double started_ = 0;

  // Handed over by the network thread.
  std::mutex mu_;
  std::deque<transport::MqttMessage> pending_;
  uint64_t overflow_ = 0;
  std::atomic<uint64_t> connects_{0};
  std::atomic<bool> connected_{false};

  // Engine thread only.
  uint64_t connects_seen_ = 0;
  int64_t desired_sequence_ = 0;
  std::string desired_id_;
  std::optional<fleet::KpiSpec> desired_kpi_;
  int64_t report_sequence_ = 0;
  std::string last_report_;  // the text last published (re-sent after a reconnect)
  std::string last_terminal_status_, last_terminal_reason_, last_terminal_id_;
  int64_t rejected_total_ = 0;
  Json rejected_ = Json::object();
  Json last_rejected_;
  int64_t duplicates_ = 0, accepted_ = 0, reports_ = 0, heartbeats_ = 0;
  uint64_t oversized_seen_ = 0;
  double next_heartbeat_ = 0, next_kpi_poll_ = 0;
  bool dirty_ = true;
};

}  // namespace vqi::agent
