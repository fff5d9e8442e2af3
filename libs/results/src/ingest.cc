// ResultIngestor: parse, flood limit, store, count (docs/design/results.md).
#include "vqi/results/ingest.h"

#include <algorithm>

#include "vqi/base/log.h"

namespace vqi::results {

ResultIngestor::ResultIngestor(ResultStore* store, IngestOptions options)
    : store_(store), o_(std::move(options)), clock_(o_.clock ? o_.clock : &RealClock()) {}

bool ResultIngestor::TakeToken(const std::string& thing, int64_t now_ms) {
  auto [it, fresh] = buckets_.try_emplace(thing, Bucket{o_.burst, now_ms});
  Bucket& b = it->second;
  if (!fresh) {
    const double elapsed_s = static_cast<double>(std::max<int64_t>(0, now_ms - b.at_ms)) / 1000.0;
    b.tokens = std::min(o_.burst, b.tokens + elapsed_s * o_.rate_per_second);
    b.at_ms = now_ms;
  }
  if (b.tokens < 1.0) {
    if (now_ms - b.last_log_ms >= 1000) {
      b.last_log_ms = now_ms;
      VQI_LOG_WARN("results: thing {} exceeds {} results/s (burst {}): dropping, counted", thing,
                   o_.rate_per_second, o_.burst);
    }
    return false;
  }
  b.tokens -= 1.0;
  return true;
}

void ResultIngestor::Refuse(const std::string& thing, const Status& why,
                            uint64_t IngestStats::*counter,
                            std::map<std::string, int64_t>* refused) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++(stats_.*counter);
    stats_.last_error = why.ToString();
  }
  if (counter != &IngestStats::rate_limited) VQI_LOG_WARN("results: refused: {}", why.ToString());
  if (!thing.empty() && refused) ++(*refused)[thing];
}

Status ResultIngestor::IngestBatch(const std::vector<IngestMessage>& messages) {
  std::vector<ParsedResult> ok;
  std::map<std::string, int64_t> refused;  // thing -> refusals to add to its counters
  const int64_t now = clock_->NowMs();
  for (const IngestMessage& m : messages) {
    const std::string thing = ThingOfTopic(m.topic);
    if (!thing.empty() && o_.known_thing && !o_.known_thing(thing)) {
      Refuse("", InvalidArgument("results from unknown thing '" + thing + "' on " + m.topic),
             &IngestStats::unknown_thing, nullptr);
      continue;
    }
    auto r = ParseResultMessage(m.topic, m.payload, o_.max_result_bytes);
    if (!r.ok()) {
      auto counter = r.status().code() == StatusCode::kResourceExhausted ? &IngestStats::oversized
                     : r.status().code() == StatusCode::kPermissionDenied
                         ? &IngestStats::wrong_thing
                         : &IngestStats::garbage;
      Refuse(thing, r.status(), counter, &refused);
      continue;
    }
    if (!TakeToken(thing, now)) {
      Refuse(thing, ResourceExhausted("thing '" + thing + "' is over its results rate"),
             &IngestStats::rate_limited, &refused);
      continue;
    }
    ok.push_back(std::move(*r));
  }
  if (!ok.empty()) {
    auto outcomes = store_->AddBatch(ok);
    if (!outcomes.ok()) return outcomes.status();
    uint64_t stored = 0, dups = 0;
    for (AddOutcome o : *outcomes) (o == AddOutcome::kStored ? stored : dups)++;
    std::lock_guard<std::mutex> lock(mu_);
    stats_.stored += stored;
    stats_.duplicates += dups;
  }
  for (const auto& [thing, n] : refused) {
    Status st = store_->CountRefused(thing, n);
    if (!st.ok()) VQI_LOG_WARN("results: counting refusals of {}: {}", thing, st.ToString());
  }
  return Status::Ok();
}

IngestStats ResultIngestor::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void ResultIngestor::CountStoreErrors(uint64_t n, const std::string& error) {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.store_errors += n;
  stats_.last_error = error;
}

}  // namespace vqi::results
