// Sends the spool's messages over MQTT in order, QoS 1, and removes each one when the broker
// acknowledged it (docs/design/ipc.md "Spool"). At most `window` messages are handed to the
// MqttClient at a time (its memory stays bounded while the broker is away); the client keeps
// them across reconnects and sends them again in order, so after a reconnect nothing needs to
// be re-read. After an agent restart the sender starts again from the oldest message on disk.
//
// Thread-safety: Pump may be called from any thread (the IPC thread after an Append, the
// engine's tick, the MQTT network thread from the acknowledgement callback).
#pragma once

#include <cstdint>
#include <mutex>

#include "vqi/agent/spool.h"
#include "vqi/transport/mqtt_client.h"

namespace vqi::agent {

class SpoolSender {
 public:
  // `spool` and `client` must outlive the sender (and the client's Disconnect must happen
  // before the sender is destroyed: callbacks refer to it).
  SpoolSender(Spool& spool, transport::MqttClient& client, size_t window = 16)
      : spool_(spool), client_(client), window_(window) {}

  // Hands waiting messages to the client until `window` are outstanding. A message the client
  // refuses for good (InvalidArgument: a bad topic) is logged and removed (it can never be
  // delivered); any other refusal (its queue is full, it is disconnecting) leaves it for the
  // next Pump. The spool's
  // max_message_bytes must not exceed the client's max_payload_bytes.
  void Pump();

  uint64_t delivered() const;  // acknowledged since construction

 private:
  void Acked(uint64_t seq);

  Spool& spool_;
  transport::MqttClient& client_;
  const size_t window_;
  mutable std::mutex mu_;
  uint64_t last_handed_ = 0;  // highest seq given to the client (GUARDED_BY mu_)
  size_t outstanding_ = 0;
  uint64_t delivered_ = 0;
};

}  // namespace vqi::agent
