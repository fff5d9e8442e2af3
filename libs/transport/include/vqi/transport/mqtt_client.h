// MqttClient: an MQTT 3.1.1 client over libmosquitto with mutual TLS, QoS 1, a persistent
// session, reconnect with exponential backoff and a bounded outgoing queue
// (docs/design/pki-mqtt.md). libmosquitto stays private: no mosquitto type here.
//
// Threading: the client owns one network thread (started by Connect) that runs libmosquitto's
// loop, reconnects, and calls the message and state callbacks. Callbacks must not block and
// must not call Subscribe or Disconnect (they would wait for the thread that runs them);
// Publish from a callback is fine. Whatever a handler uses must outlive the client (or its
// Disconnect). Every other method may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "vqi/base/status.h"

namespace vqi::transport {

struct MqttOptions {
  std::string host = "127.0.0.1";
  int port = 8883;
  std::string client_id;  // = the thing name (the certificate's CN); required
  std::string ca_file, cert_file, key_file;
  bool clean_session = false;  // false: the broker keeps subscriptions and QoS 1 messages
  int keepalive_seconds = 30;  // 5..65535
  int reconnect_min_ms = 500;  // first retry delay; doubles up to reconnect_max_ms
  int reconnect_max_ms = 30000;
  int connect_timeout_ms = 10000;      // TCP + TLS + CONNACK; then the attempt counts as failed
  int max_inflight = 20;               // unacknowledged QoS 1 messages on the wire
  size_t max_queued = 1000;            // offline queue + unacknowledged, beyond: ResourceExhausted
  size_t max_payload_bytes = 1 << 20;  // larger received messages are dropped and counted;
                                       // larger Publish payloads are refused
};

enum class ConnectionState { kConnecting, kConnected, kReconnecting, kStopped };
const char* ConnectionStateName(ConnectionState state);

struct MqttMessage {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool retained = false;
};

struct MqttStats {
  uint64_t received = 0;           // delivered to the handler
  uint64_t dropped_oversized = 0;  // payload > max_payload_bytes
  uint64_t rejected = 0;           // the handler returned an error
  uint64_t published = 0;          // acknowledged by the broker (QoS 1) or sent (QoS 0)
  uint64_t connects = 0;           // successful CONNACKs
  size_t queued = 0;               // waiting offline + unacknowledged, now
};

class MqttClient {
 public:
  // A non-OK status from the handler means "garbage": logged and counted, never fatal.
  using MessageHandler = std::function<Status(const MqttMessage&)>;
  // `error` explains a kReconnecting (the connect failure, the OpenSSL error, the CONNACK).
  using StateHandler = std::function<void(ConnectionState state, const Status& error)>;

  // InvalidArgument for bad options (naming the field); NotFound for a missing file.
  static Result<std::unique_ptr<MqttClient>> Create(const MqttOptions& options);
  ~MqttClient();  // Disconnect(0) if still running
  MqttClient(const MqttClient&) = delete;
  MqttClient& operator=(const MqttClient&) = delete;

  // Set before Connect.
  void OnMessage(MessageHandler handler);
  void OnState(StateHandler handler);

  // Starts the network thread, which connects and keeps reconnecting. Returns at once;
  // FailedPrecondition when already started.
  Status Connect();
  // Waits until connected: DeadlineExceeded (with the last connection error) at the timeout.
  Status WaitConnected(int timeout_ms);

  // Publishes (QoS 0 or 1). Connected: handed to libmosquitto, which keeps a QoS 1 message until
  // the broker acknowledges it, across reconnects. Offline: queued and sent on the next
  // CONNACK. ResourceExhausted when max_queued messages are waiting or the payload is larger
  // than max_payload_bytes; InvalidArgument for a topic with wildcards or an empty one.
  Status Publish(const std::string& topic, std::string_view payload, int qos = 1,
                 bool retain = false);
  // Publish with a completion callback (added for the agent's outbound spool, issue 20):
  // `on_acked` runs on the network thread once the broker acknowledged the QoS 1 message
  // (PUBACK); InvalidArgument for qos 0. It never runs when Publish returns an error, nor for a
  // message still unacknowledged at Disconnect (the caller keeps it and sends it again). It must
  // not block (same rules as the handlers).
  using AckHandler = std::function<void()>;
  Status Publish(const std::string& topic, std::string_view payload, int qos, bool retain,
                 AckHandler on_acked);

  // Subscribes now (waiting up to `timeout_ms` for the SUBACK) when connected, and again on
  // every reconnect. PermissionDenied when the broker refuses the filter (return code 0x80);
  // DeadlineExceeded when no SUBACK came in time (the filter stays registered); OK without
  // waiting when offline.
  Status Subscribe(const std::string& filter, int qos = 1, int timeout_ms = 5000);

  // Waits up to `timeout_ms` for queued and unacknowledged messages to be acknowledged, then
  // disconnects and stops the thread. DeadlineExceeded naming how many messages were not
  // acknowledged (they are lost to this process; the broker has what it acknowledged).
  Status Disconnect(int timeout_ms = 2000);

  ConnectionState state() const;
  MqttStats Stats() const;

  class Impl;

 private:
  explicit MqttClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vqi::transport
