// Clocks and the civil calendar (see clock.h).
#include "vqi/base/clock.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace vqi {
namespace {

class SystemClock : public Clock {
 public:
  int64_t NowMs() override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  bool SleepUntil(int64_t deadline_ms, const std::atomic<bool>* cancel) override {
    while (true) {
      if (cancel != nullptr && cancel->load()) return false;
      int64_t left = deadline_ms - NowMs();
      if (left <= 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(left, 50)));
    }
  }
};

}  // namespace

Clock& RealClock() {
  static SystemClock clock;
  return clock;
}

bool FakeClock::SleepUntil(int64_t deadline_ms, const std::atomic<bool>* cancel) {
  int64_t cur = now_.load();
  while (cur < deadline_ms && !now_.compare_exchange_weak(cur, deadline_ms)) {
  }
  return cancel == nullptr || !cancel->load();
}

// Howard Hinnant's days_from_civil.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace vqi
