// MqttResultsIngest: the server's results subscriber (docs/design/results.md). Its own MQTT
// connection (client id `vqi-server-results`, certificate of the server identity `vqi-server`
// issued from the vqi CA on first use), subscribed to topics::AllResults(); the MQTT callback
// only queues into a bounded inbox, a writer thread drains it in batches into
// <home>/results/results.db through ResultIngestor. Messages on sub-kind topics
// (vqi/v1/results/<thing>/<component>/upload|shadow|drift) go to the handlers given in
// `ingest.sub_handlers` (ingest.h), on the same writer thread; a sub-kind without one is refused
// and counted. The server plugs its handlers in there (apps/vqi/server_cmd.cc: uploads →
// results::UploadIngestor; shadow and drift by their owners). The writer calls the handlers'
// Tick() when it starts and every 2 s while idle (uploads store what they kept pending).
//
// Threading: Start/Stop/Stats from any thread. Stop is idempotent; the destructor stops.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "vqi/base/status.h"
#include "vqi/results/ingest.h"
#include "vqi/results/store.h"

namespace vqi::results {

inline constexpr std::string_view kResultsClientId = "vqi-server-results";

struct MqttIngestOptions {
  std::string home;  // <home>/results/results.db; <home>/pki for the identity
  std::string mqtt_host = "127.0.0.1";
  int mqtt_port = 8883;
  // The MQTT identity; all empty: fleet::EnsureClientIdentity(home, "vqi-server").
  std::string ca_file, cert_file, key_file;
  std::string client_id = std::string(kResultsClientId);
  size_t max_inbox = 10000;  // queued messages; beyond: dropped and counted
  // Queued payload bytes (uploads are up to ~350 KB each); beyond: dropped and counted.
  size_t max_inbox_bytes = size_t{256} << 20;
  size_t max_batch = 500;  // messages per store transaction
  // Payload bytes per batch (at least one message): bounds how long results wait behind uploads
  // (~12 of the largest, ~50 of a 640x480 JPEG).
  size_t max_batch_bytes = size_t{4} << 20;
  IngestOptions ingest;
  RetentionPolicy retention;
};

struct MqttIngestStats {
  IngestStats ingest;
  uint64_t received = 0;
  uint64_t inbox_dropped = 0;
  bool connected = false;
};

class MqttResultsIngest {
 public:
  // Opens the store and the identity; InvalidArgument for bad options.
  static Result<std::unique_ptr<MqttResultsIngest>> Create(const MqttIngestOptions& options);
  ~MqttResultsIngest();
  MqttResultsIngest(const MqttResultsIngest&) = delete;
  MqttResultsIngest& operator=(const MqttResultsIngest&) = delete;

  // Connects (in the background, reconnecting), subscribes and starts the writer.
  // FailedPrecondition when already started.
  Status Start();
  // Waits until connected and subscribed (DeadlineExceeded at the timeout).
  Status WaitReady(int timeout_ms);
  // Disconnects, then drains what is queued into the store. Idempotent.
  void Stop();
  MqttIngestStats Stats() const;

  class Impl;

 private:
  explicit MqttResultsIngest(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vqi::results
