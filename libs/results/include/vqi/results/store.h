// The results store: recent inspection results and per-thing counters behind a domain interface
// (no SQL), with a SQLite implementation at <home>/results/results.db (OpenSqliteResultStore).
// docs/design/results.md.
//
// Errors: InvalidArgument for a bad query; storage errors as libs/sqlite reports them
// (Unavailable = retry, DataLoss = damaged file). A failed call leaves the store unchanged
// (AddBatch is one transaction).
//
// Thread-compatibility: one ResultStore per thread (one SQLite connection); several processes
// may share one file (WAL): `vqi results tail --follow` reads while `vqi server` writes.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "vqi/base/clock.h"
#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/results/result_message.h"

namespace vqi::results {

struct RetentionPolicy {
  int64_t keep_per_thing = 1000;     // the most recent results per thing; 1..10,000,000
  int64_t max_total = 1000000;       // all things; the oldest beyond it are deleted; 1..1e9
  int64_t total_check_every = 1000;  // inserts between total-cap checks
};

struct StoredResult {
  int64_t seq = 0;  // the store's sequence: increasing, never reused
  std::string id, thing, component, verdict;
  bool uncertain = false;
  std::string timestamp;  // the device's
  std::string received;   // the server's clock, RFC 3339 UTC with ms
  int64_t received_ms = 0;
  std::string model_name, model_version, image_name;
  double total_ms = -1, model_ms = -1;
  std::string payload;  // the message as received
};

struct ThingCounters {
  std::string thing;
  int64_t images = 0;  // stored results (pass + fail + error)
  int64_t pass = 0, fail = 0, error = 0, uncertain = 0;
  int64_t duplicates = 0;                        // dropped: id already stored
  int64_t refused = 0;                           // garbage, oversized, wrong thing, rate-limited
  double mean_model_ms = -1, p95_model_ms = -1;  // mean: all time; p95: retained results
  double mean_total_ms = -1, p95_total_ms = -1;
  std::string first_seen, last_seen;  // server clock; "" before the first result
  std::string last_model_name, last_model_version;
  int64_t retained = 0;  // results of this thing still stored
  // Drift (docs/design/results.md "Drift"): the last report, from a result's `drift` field or
  // a vqi.inspect.drift/1 alert message, whichever is newest by the device's clock.
  double drift_score = -1;  // -1: no drift report received yet
  std::string drift_feature;
  int64_t drift_window = 0;
  bool drift_alert = false;
  std::string drift_at;             // server clock of that report
  std::string drift_alert_changed;  // device time the alert state last changed ("" never)
  int64_t drift_alerts = 0;         // "raised" messages received
};

struct ResultQuery {
  std::string thing;      // "" = all
  std::string verdict;    // "" = all; else pass | fail | error
  int64_t since_ms = 0;   // received at or after (server clock, ms since the epoch)
  int64_t after_seq = 0;  // seq > after_seq
  int limit = 100;        // 1..10,000
};

enum class AddOutcome { kStored, kDuplicate };

class ResultStore {
 public:
  virtual ~ResultStore() = default;

  // Stores each result (one transaction for the batch), dropping those whose id is already
  // stored (counted as the thing's duplicates), updates the counters and applies retention.
  // One outcome per input, in order.
  virtual Result<std::vector<AddOutcome>> AddBatch(const std::vector<ParsedResult>& results) = 0;
  Result<AddOutcome> Add(const ParsedResult& r);
  // Stores drift alert messages (one transaction), dropping ids already stored, and sets the
  // thing's drift state from each. One outcome per input, in order.
  virtual Result<std::vector<AddOutcome>> AddDriftAlerts(
      const std::vector<ParsedDrift>& alerts) = 0;
  // Adds `n` to the thing's refused counter (creating its row).
  virtual Status CountRefused(const std::string& thing, int64_t n) = 0;

  // Newest first, matching the query (after_seq ignored).
  virtual Result<std::vector<StoredResult>> Recent(const ResultQuery& q) = 0;
  // Oldest first, seq > q.after_seq, matching thing/verdict/since: the tail cursor.
  virtual Result<std::vector<StoredResult>> After(const ResultQuery& q) = 0;
  virtual Result<int64_t> LastSequence() = 0;  // 0 when empty

  // NotFound naming the thing when nothing was ever received from it.
  virtual Result<ThingCounters> Counters(const std::string& thing) = 0;
  virtual Result<std::vector<ThingCounters>> AllCounters() = 0;  // by thing name
};

struct ResultStoreOptions {
  bool create = true;  // false: NotFound when the file is missing (read-only tools)
  RetentionPolicy retention;
  Clock* clock = nullptr;  // RealClock() when null
};

std::string ResultsDbPath(const std::string& home);  // <home>/results/results.db
Result<std::unique_ptr<ResultStore>> OpenSqliteResultStore(const std::string& path,
                                                           const ResultStoreOptions& options = {});

// JSON forms (the CLI's --json and the HTTP API): a result is its payload plus
// "seq", "received"; counters as named fields.
Json StoredResultToJson(const StoredResult& r);
Json ThingCountersToJson(const ThingCounters& c);
// "2026-12-06T10:00:00.123Z" -> ms since the epoch; InvalidArgument naming the accepted form.
// Also accepts whole seconds ("...:00Z").
Result<int64_t> ParseRfc3339Ms(const std::string& text);

}  // namespace vqi::results
