// The fleet controller: the server side of the MQTT control channel (docs/design/fleet.md,
// "Controller"). It connects to the broker as `vqi-server` (topics::kServerIdentity), takes
// status reports and heartbeats in, runs the staged rollouts and publishes desired states.
//
//   status  vqi/v1/things/+/status → ParseStatusReport(sender = the topic's thing)
//           → ApplyStatusReport; refusals are logged with the reason and counted.
//   health  vqi/v1/things/+/health → ParseHealthReport → FleetStore::RecordSeen.
//   loop    every poll_interval_ms: AdvanceRollout for each live deployment; for `notify` the
//           thing's desired state (ComputeDesiredState), for `roll_back` RollbackDesiredState,
//           each with NextDesiredSequence, written to the store's outbox in the same
//           transaction as the step; revoked things get a clear; then every pending outbox
//           record is published (retained, QoS 1, topics::DesiredTopic) and marked published
//           once the broker acknowledged it. A record still pending at a restart (the server
//           died before the PUBACK) is published again.
//
// Other processes (`vqi deployment create`) only write the store; the controller picks the
// change up at its next poll.
//
// Threading: one loop thread owns the stores; MQTT callbacks only queue messages for it.
// Start/Stop/Stats may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "vqi/base/clock.h"
#include "vqi/base/status.h"
#include "vqi/fleet/rollout.h"

namespace vqi::fleet {

struct ControllerOptions {
  std::string home;  // <home>/fleet/fleet.db, <home>/components/components.db, <home>/pki
  std::string mqtt_host = "127.0.0.1";
  int mqtt_port = 8883;
  // The server's MQTT identity; all empty: EnsureClientIdentity(home, "vqi-server").
  std::string ca_file, cert_file, key_file;
  int poll_interval_ms = 200;  // 10..60000
  RolloutTiming timing;        // the planner's time base (tests shorten the minute)
  size_t max_inbox = 10000;    // received messages waiting for the loop; beyond: dropped, counted
  int reconnect_max_ms = 5000;
  Clock* clock = nullptr;  // RealClock() when null
};

struct ControllerStats {
  uint64_t status_applied = 0;
  uint64_t status_refused = 0;  // garbage, replayed, illegal, unknown thing or deployment
  uint64_t status_stale = 0;    // on a record already final (e.g. after a rollback): ignored
  uint64_t health_stored = 0;
  uint64_t health_refused = 0;
  uint64_t other_refused = 0;        // a message on a topic the controller does not read
  uint64_t inbox_dropped = 0;        // max_inbox exceeded
  uint64_t desired_enqueued = 0;     // outbox records written (notify, roll back, clear)
  uint64_t desired_published = 0;    // outbox records acknowledged by the broker
  uint64_t desired_republished = 0;  // latest states published again after a (re)connect
  uint64_t promotions = 0;           // shadow candidates promoted (docs/design/shadow.md)
  uint64_t loop_errors = 0;          // a step that failed (store busy, ...): retried next poll
  uint64_t loops = 0;
  bool connected = false;
  std::string last_error;  // the last refusal or loop error, for people
};

// "HOST:PORT" (HOST a name or an IPv4 address, PORT 1..65535) → the options' mqtt_host and
// mqtt_port. InvalidArgument naming the accepted form.
Status ParseMqttAddress(const std::string& text, ControllerOptions* options);

class FleetController {
 public:
  // Opens the stores and the MQTT identity (issued on first use). InvalidArgument for bad
  // options; store and CA errors as they come.
  static Result<std::unique_ptr<FleetController>> Create(const ControllerOptions& options);
  ~FleetController();  // Stop()
  FleetController(const FleetController&) = delete;
  FleetController& operator=(const FleetController&) = delete;

  // Connects (in the background: a broker that is down is retried with backoff; publishes wait
  // in the store's outbox) and starts the loop. FailedPrecondition when already started.
  Status Start();
  // Stops the loop, then disconnects, waiting up to `timeout_ms` for unacknowledged publishes
  // (those stay pending in the store and are published again at the next start). Idempotent.
  void Stop(int timeout_ms = 2000);

  ControllerStats Stats() const;

  class Impl;

 private:
  explicit FleetController(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vqi::fleet
