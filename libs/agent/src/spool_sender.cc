// SpoolSender (vqi/agent/spool_sender.h).
#include "vqi/agent/spool_sender.h"

#include "vqi/base/log.h"

namespace vqi::agent {

void SpoolSender::Pump() {
  std::unique_lock lock(mu_);
  while (outstanding_ < window_) {
    auto batch = spool_.After(last_handed_, window_ - outstanding_);
    if (batch.empty()) return;
    for (auto& m : batch) {
      const uint64_t seq = m.seq;
      Status s = client_.Publish(m.topic, m.payload, 1, false, [this, seq] { Acked(seq); });
      if (s.ok()) {
        last_handed_ = seq;
        ++outstanding_;
        continue;
      }
      // Full queue, disconnecting, ...: keep it for the next Pump. Only a message that can
      // never be sent (InvalidArgument: topic or size) is given up.
      if (s.code() != StatusCode::kInvalidArgument) return;
      last_handed_ = seq;
      VQI_LOG_ERROR("spool: message {} on {} can never be sent, dropped: {}", m.id, m.topic,
                    s.ToString());
      (void)spool_.Remove(seq);
    }
  }
}

void SpoolSender::Acked(uint64_t seq) {
  Status s = spool_.Remove(seq);
  if (!s.ok()) VQI_LOG_WARN("spool: {}", s.ToString());
  {
    std::lock_guard lock(mu_);
    if (outstanding_ > 0) --outstanding_;
    ++delivered_;
  }
  Pump();
}

uint64_t SpoolSender::delivered() const {
  std::lock_guard lock(mu_);
  return delivered_;
}

}  // namespace vqi::agent
