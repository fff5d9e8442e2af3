// MqttClient's implementation (internal): one libmosquitto handle, our network thread, the
// offline queue and the counters. mqtt_client.cc holds the caller-facing half (publish,
// subscribe, connect, disconnect), mqtt_network.cc what runs on the network thread (the loop,
// reconnects, libmosquitto's callbacks).
#pragma once

#include <mosquitto.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>

#include "vqi/base/status.h"
#include "vqi/transport/mqtt_client.h"

namespace vqi::transport {
namespace internal {

// A libmosquitto return code as a Status: `what` + mosquitto_strerror.
Status MosqStatus(int rc, const std::string& what);

}  // namespace internal

class MqttClient::Impl {
 public:
  explicit Impl(const MqttOptions& o) : o_(o), rng_(std::random_device{}()) {}
  ~Impl() {
    if (mosq_) mosquitto_destroy(mosq_);
  }

  Status Init();  // creates and configures the libmosquitto handle

  // Set before Connect (read by the network thread afterwards).
  MessageHandler on_message_;
  StateHandler on_state_;

  // The MqttClient methods of the same names (mqtt_client.cc).
  Status Connect();
  Status WaitConnected(int timeout_ms);
  Status Publish(const std::string& topic, std::string_view payload, int qos, bool retain,
                 AckHandler on_acked = nullptr);
  Status Subscribe(const std::string& filter, int qos, int timeout_ms);
  Status Disconnect(int timeout_ms);
  ConnectionState state() const;
  MqttStats Stats() const;

 private:
  struct Pending {
    std::string topic, payload;
    int qos;
    bool retain;
    AckHandler on_acked;
  };

  // REQUIRES: mu_ held. Unavailable when the connection is gone (the caller queues).
  // `on_acked` (may be empty) is kept by mid until the PUBACK (OnPublish).
  Status SendLocked(const std::string& topic, std::string_view payload, int qos, bool retain,
                    const AckHandler& on_acked = nullptr);

  // Network thread (mqtt_network.cc).
  void SetState(ConnectionState s, const Status& error);  // then calls on_state_ unlocked
  void Run();                                             // the thread's body
  // Non-zero (an errno) when the socket being connected has failed: the TCP connect is over
  // (poll says writable or hung up) but the socket has no peer. libmosquitto may already have
  // consumed SO_ERROR, hence ECONNREFUSED as the likely cause when it has.
  int PendingSocketError();
  // Reports the failure and sleeps the backoff (interrupted by Disconnect).
  void Failed(Status why);
  // libmosquitto callbacks.
  void OnLog(const char* text) { log_error_ = text ? text : ""; }
  void OnConnect(int rc);
  void OnPublish(int mid);
  void OnSubscribe(int mid, int n, const int* granted);
  void OnMessageIn(const mosquitto_message* m);

  const MqttOptions o_;
  mosquitto* mosq_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> connack_{false};
  std::string log_error_;  // network thread only
  std::mt19937 rng_;       // network thread only (under mu_)

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;
  ConnectionState state_ = ConnectionState::kStopped;
  Status last_error_;
  int delay_ms_ = 0;
  std::deque<Pending> queue_;
  std::set<int> inflight_;
  std::map<int, AckHandler> acks_;  // QoS 1 mid -> completion callback (Publish with on_acked)
  std::map<std::string, int> subs_;
  std::map<int, int> sub_wait_;  // SUBACK mid -> granted (-1 = waiting)
  MqttStats stats_;

  friend class MqttClient;
};

}  // namespace vqi::transport
