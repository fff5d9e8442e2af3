// ResultIngestor: parse, flood limit, store, count (docs/design/results.md).
#include "vqi/results/ingest.h"

#include <algorithm>

#include "vqi/base/log.h"
#include "vqi/transport/topics.h"

namespace vqi::results {

namespace {

class FunctionHandler : public SubKindHandler {
 public:
  explicit FunctionHandler(std::function<Result<SubKindOutcome>(const SubKindMessage&)> f)
      : f_(std::move(f)) {}
  std::vector<Result<SubKindOutcome>> HandleBatch(
      const std::vector<SubKindMessage>& messages) override {
    std::vector<Result<SubKindOutcome>> out;
    out.reserve(messages.size());
    for (const SubKindMessage& m : messages) out.push_back(f_(m));
    return out;
  }

 private:
  std::function<Result<SubKindOutcome>(const SubKindMessage&)> f_;
};

bool IsRefusal(StatusCode c) {
  switch (c) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kPermissionDenied:
    case StatusCode::kResourceExhausted:
    case StatusCode::kNotFound:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kAlreadyExists:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::shared_ptr<SubKindHandler> MakeSubKindHandler(
    std::function<Result<SubKindOutcome>(const SubKindMessage&)> handle) {
  return std::make_shared<FunctionHandler>(std::move(handle));
}

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
  std::map<std::string, std::vector<SubKindMessage>> subs;  // sub-kind -> its messages
  std::map<std::string, int64_t> refused;  // thing -> refusals to add to its counters
  const int64_t now = clock_->NowMs();
  for (const IngestMessage& m : messages) {
    const std::string thing = ThingOfTopic(m.topic);
    if (!thing.empty() && o_.known_thing && !o_.known_thing(thing)) {
      Refuse("", InvalidArgument("results from unknown thing '" + thing + "' on " + m.topic),
             &IngestStats::unknown_thing, nullptr);
      continue;
    }
    if (!thing.empty()) {
      auto t = transport::topics::Parse(m.topic);
      if (t.ok() && !t->sub.empty()) {
        if (!o_.sub_handlers.count(t->sub) || !o_.sub_handlers.at(t->sub)) {
          Refuse(thing,
                 FailedPrecondition("no handler for " + t->sub + " messages (on " + m.topic +
                                    "): this server does not take them"),
                 &IngestStats::unhandled_sub, &refused);
          continue;
        }
        if (!TakeToken(thing, now)) {
          Refuse(thing, ResourceExhausted("thing '" + thing + "' is over its results rate"),
                 &IngestStats::rate_limited, &refused);
          continue;
        }
        subs[t->sub].push_back({m.topic, t->thing, t->component, t->sub, m.payload, now});
        continue;
      }
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
  for (const auto& [sub, batch] : subs) {
    std::vector<Result<SubKindOutcome>> outcomes = o_.sub_handlers.at(sub)->HandleBatch(batch);
    VQI_CHECK_MSG(outcomes.size() == batch.size(), "a sub-kind handler must answer every message");
    for (size_t i = 0; i < batch.size(); ++i) {
      const Result<SubKindOutcome>& o = outcomes[i];
      std::lock_guard<std::mutex> lock(mu_);
      SubKindCounts& c = stats_.sub[sub];
      if (o.ok()) {
        ++(*o == SubKindOutcome::kHandled     ? c.handled
           : *o == SubKindOutcome::kDuplicate ? c.duplicates
                                              : c.deferred);
        continue;
      }
      stats_.last_error = o.status().ToString();
      if (IsRefusal(o.status().code())) {
        ++c.refused;
        ++refused[batch[i].thing];
        VQI_LOG_WARN("results: {} refused: {}", sub, o.status().ToString());
      } else {
        ++c.errors;
        VQI_LOG_WARN("results: {} failed: {}", sub, o.status().ToString());
      }
    }
  }
  for (const auto& [thing, n] : refused) {
    Status st = store_->CountRefused(thing, n);
    if (!st.ok()) VQI_LOG_WARN("results: counting refusals of {}: {}", thing, st.ToString());
  }
  return Status::Ok();
}

void ResultIngestor::Tick() {
  for (const auto& [sub, handler] : o_.sub_handlers) handler->Tick();
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
