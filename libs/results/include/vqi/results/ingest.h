// ResultIngestor: results messages → ResultStore, with the flood limit and every outcome
// counted by reason (docs/design/results.md). No MQTT here (MqttResultsIngest feeds it).
//
// Thread-compatibility: one thread drives an ingestor (it owns the store's connection);
// Stats() is thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "vqi/base/clock.h"
#include "vqi/base/status.h"
#include "vqi/results/store.h"

namespace vqi::results {

// ---- Sub-kinds: vqi/v1/results/<thing>/<component>/<sub> (docs/design/results.md "Dispatch")
//
// A plain result (no sub-kind) is parsed and stored here. A message on a sub-kind topic
// ("upload", "shadow", "drift": transport::topics) goes to the handler registered for that
// sub-kind in IngestOptions::sub_handlers, after the same checks as a result: a known thing
// (known_thing) and the thing's token bucket (one token per message of any kind). A sub-kind
// without a handler is refused and counted (IngestStats::unhandled_sub and the thing's
// `refused`), never silently dropped.

struct SubKindMessage {
  std::string topic;
  std::string thing;        // the topic's (authenticated by the broker ACL)
  std::string component;    // the topic's
  std::string sub;          // "upload" | "shadow" | "drift"
  std::string payload;      // as received; the handler checks its own size limit
  int64_t received_ms = 0;  // the server's clock
};

// kDeferred: accepted and kept durably by the handler, to be stored later (uploads while the
// dataset is locked: <home>/results/uploads-pending/, docs/design/results.md "Uploads").
enum class SubKindOutcome { kHandled, kDuplicate, kDeferred };

// Implemented by the owner of a sub-kind (uploads: libs/results upload_ingest.h; shadow and
// drift: their helpers) and plugged in through IngestOptions::sub_handlers.
class SubKindHandler {
 public:
  virtual ~SubKindHandler() = default;
  // Called on the ingest's writer thread with the batch's messages of this sub-kind, in arrival
  // order. Returns one outcome per message, in order: kHandled, kDuplicate, or an error. A
  // refusal of the message (InvalidArgument, PermissionDenied, ResourceExhausted, NotFound,
  // FailedPrecondition, AlreadyExists) is counted as `refused` (and in the thing's
  // counters); any other code (Unavailable, DataLoss, Internal, ...: the handler's storage
  // failed, after its own retries) as `errors`. The message is then gone: QoS 1 was already
  // acknowledged to the device.
  virtual std::vector<Result<SubKindOutcome>> HandleBatch(
      const std::vector<SubKindMessage>& messages) = 0;
  // Called on the writer thread when it starts and at least every few seconds while idle
  // (MqttResultsIngest: every 2 s): a handler stores what it deferred. Must return quickly.
  virtual void Tick() {}
};

// A handler from one function called per message (for handlers that need no batching).
std::shared_ptr<SubKindHandler> MakeSubKindHandler(
    std::function<Result<SubKindOutcome>(const SubKindMessage&)> handle);

struct SubKindCounts {
  uint64_t handled = 0, duplicates = 0, refused = 0, errors = 0;
  uint64_t deferred = 0;  // kept by the handler to be stored later (kDeferred)
};

struct IngestOptions {
  size_t max_result_bytes = kDefaultMaxResultBytes;  // 256..1 MiB
  // Per thing, a token bucket: refill per second (0.1..100,000) and size (1..1,000,000). The
  // burst lets a device's spool flush after an outage through (docs/design/results.md).
  double rate_per_second = 1000;
  double burst = 100000;
  // When set: a thing it answers false for is refused ("unknown thing") and counted only here.
  std::function<bool(const std::string& thing)> known_thing;
  // Sub-kind ("upload", "shadow", "drift") -> its handler. The handlers must outlive the
  // ingestor; they run on the thread that calls IngestBatch.
  std::map<std::string, std::shared_ptr<SubKindHandler>> sub_handlers;
  Clock* clock = nullptr;  // RealClock() when null
};

struct IngestStats {
  uint64_t stored = 0;
  uint64_t duplicates = 0;
  uint64_t garbage = 0;  // not JSON, wrong schema, bad or missing fields, bad topic
  uint64_t oversized = 0;
  uint64_t wrong_thing = 0;  // payload thing/id/component disagree with the topic
  uint64_t unknown_thing = 0;
  uint64_t rate_limited = 0;
  uint64_t store_errors = 0;                 // messages of batches the store failed
  uint64_t unhandled_sub = 0;                // a sub-kind topic with no handler registered
  std::map<std::string, SubKindCounts> sub;  // per sub-kind, what its handler answered
  std::string last_error;                    // the last refusal or store error, for people
};

struct IngestMessage {
  std::string topic;
  std::string payload;
};

class ResultIngestor {
 public:
  ResultIngestor(ResultStore* store, IngestOptions options);  // store must outlive this

  // Parses, rate-limits and stores the messages (one store transaction), then hands the
  // sub-kind messages to their handlers (one HandleBatch per sub-kind). Refusals are counted
  // (and added to the thing's `refused` counter when the topic names a thing) and logged; they
  // never fail the call. Returns a store error (the results are then not stored and no handler
  // was called; the caller may retry the same batch, duplicates are dropped by id).
  Status IngestBatch(const std::vector<IngestMessage>& messages);
  Status Ingest(const std::string& topic, const std::string& payload) {
    return IngestBatch({{topic, payload}});
  }

  // Every sub-kind handler's Tick() (the writer thread, at start and when idle).
  void Tick();

  IngestStats Stats() const;
  void CountStoreErrors(uint64_t n, const std::string& error);

 private:
  bool TakeToken(const std::string& thing, int64_t now_ms);
  void Refuse(const std::string& thing, const Status& why, uint64_t IngestStats::*counter,
              std::map<std::string, int64_t>* refused);

  ResultStore* store_;
  IngestOptions o_;
  Clock* clock_;
  struct Bucket {
    double tokens;
    int64_t at_ms;
    int64_t last_log_ms = -1000000;
  };
  std::map<std::string, Bucket> buckets_;
  mutable std::mutex mu_;
  IngestStats stats_;  // GUARDED_BY(mu_)
};

}  // namespace vqi::results
