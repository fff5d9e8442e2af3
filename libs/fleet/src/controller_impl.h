// FleetController::Impl, shared by controller.cc (lifecycle, loop), controller_inbound.cc
// (status reports and heartbeats) and controller_outbound.cc (rollout steps, the outbox and
// publishing). Not installed: an implementation detail of libs/fleet.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "vqi/base/clock.h"
#include "vqi/component/store.h"
#include "vqi/fleet/controller.h"
#include "vqi/fleet/shadow_store.h"
#include "vqi/fleet/store.h"
#include "vqi/transport/mqtt_client.h"

namespace vqi::fleet {

// How often the loop looks for commits of other processes between polls (PRAGMA data_version).
inline constexpr int64_t kChangeCheckMs = 20;

class FleetController::Impl {
 public:
  Impl(ControllerOptions o, std::unique_ptr<FleetStore> fleet,
       std::unique_ptr<component::Store> components, std::unique_ptr<transport::MqttClient> mqtt)
      : o_(std::move(o)),
        clock_(o_.clock ? o_.clock : &RealClock()),
        fleet_(std::move(fleet)),
        components_(std::move(components)),
        mqtt_(std::move(mqtt)) {}

  Status Start();
  void Stop(int timeout_ms);
  ControllerStats Stats() const;
  // The shadow statistics the loop reads for promoteWhen (set by Create, before Start).
  void SetShadowStore(std::unique_ptr<ShadowStore> s) { shadow_ = std::move(s); }

 private:
  // controller.cc
  // MQTT network thread: queue only.
  Status Receive(const transport::MqttMessage& m);
  // The loop thread: drains the inbox, steps at each poll or after another process committed.
  void Loop();
  // Logged at most once a minute per `what` (a failing step is retried every poll).
  void LoopError(const std::string& what, const Status& s);
  // controller_inbound.cc
  void Refuse(uint64_t ControllerStats::*counter, const std::string& what, const Status& why);
  void Count(uint64_t ControllerStats::*counter);
  // FailedPrecondition for a revoked thing (its certificate is on the CRL; a message that
  // still arrives was in flight).
  Status CheckActive(const std::string& thing);
  // One received message: a status report or a heartbeat (anything else refused).
  void Handle(const transport::MqttMessage& m);
  // controller_outbound.cc
  // Writes `s` (sequence assigned) to the outbox of its thing; returns the sequence.
  Result<int64_t> Enqueue(DesiredState s, int64_t now);
  // One rollout step of `d` and its desired states, in one transaction.
  Status StepDeployment(const Deployment& d, int64_t now);
  // Every poll: revoked things cleared, each live RUNNING rollout stepped, then Flush.
  void Tick();
  // controller_outbound.cc: for each live deployment with a shadow rule, promotes the
  // candidate when the rule holds over the stored evidence (docs/design/shadow.md).
  void PromoteShadows(const std::vector<Deployment>& deployments, int64_t now);
  // Publishes every pending outbox record not yet handed to the client; marks them published
  // once the client has nothing unacknowledged.
  void Flush();
  // Marks what was handed to the client published once it has nothing unacknowledged.
  void MarkAcknowledged();
  // After a (re)connect: publishes again every thing's latest acknowledged desired state
  // (retained), from `republish_from_` on; a full client queue continues at the next loop.
  void Republish();

  ControllerOptions o_;
  Clock* clock_;
  std::unique_ptr<FleetStore> fleet_;
  std::unique_ptr<component::Store> components_;
  std::unique_ptr<transport::MqttClient> mqtt_;
  std::unique_ptr<ShadowStore> shadow_;  // null = no shadow promotion
  std::thread thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<transport::MqttMessage> inbox_;
  bool started_ = false, stopped_ = false, stopping_ = false;
  bool republish_ = false;       // set at every connect (docs/design/fleet.md "Publishing")
  bool republish_wake_ = false;  // wakes the loop once per connect
  std::string republish_from_;   // the first thing name not yet re-published
  ControllerStats stats_;

  // Loop thread only: thing -> (sequence, payload) handed to the client, not yet marked.
  std::map<std::string, std::pair<int64_t, std::string>> handed_;
  // Loop thread only (and Stop after the join): when each loop error was last logged.
  std::map<std::string, int64_t> last_logged_;
};

}  // namespace vqi::fleet
