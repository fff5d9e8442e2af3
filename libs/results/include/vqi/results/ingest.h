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

struct IngestOptions {
  size_t max_result_bytes = kDefaultMaxResultBytes;  // 256..1 MiB
  // Per thing, a token bucket: refill per second (0.1..100,000) and size (1..1,000,000). The
  // burst lets a device's spool flush after an outage through (docs/design/results.md).
  double rate_per_second = 1000;
  double burst = 100000;
  // When set: a thing it answers false for is refused ("unknown thing") and counted only here.
  std::function<bool(const std::string& thing)> known_thing;
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
  uint64_t store_errors = 0;  // messages of batches the store failed
  std::string last_error;     // the last refusal or store error, for people
};

struct IngestMessage {
  std::string topic;
  std::string payload;
};

class ResultIngestor {
 public:
  ResultIngestor(ResultStore* store, IngestOptions options);  // store must outlive this

  // Parses, rate-limits and stores the messages (one store transaction). Refusals are counted
  // (and added to the thing's `refused` counter when the topic names a thing) and logged; they
  // never fail the call. Returns a store error (the batch is then not stored; the caller may
  // retry the same batch, duplicates are dropped by id).
  Status IngestBatch(const std::vector<IngestMessage>& messages);
  Status Ingest(const std::string& topic, const std::string& payload) {
    return IngestBatch({{topic, payload}});
  }

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
