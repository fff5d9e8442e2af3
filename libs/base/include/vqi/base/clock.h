// Wall time as a seam: the real clock for programs, a fake one for tests, and the one civil
// calendar helper everything that reads dates shares.
//
// Thread-safety: every Clock method may be called from many threads at once.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace vqi {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual int64_t NowMs() = 0;
  // Waits until `deadline_ms` or until `*cancel` (may be null) becomes true; false if
  // cancelled. The real clock wakes at least every 50 ms to look at `cancel`.
  virtual bool SleepUntil(int64_t deadline_ms, const std::atomic<bool>* cancel) = 0;
};

// The system clock (std::chrono::system_clock), shared by the whole process.
Clock& RealClock();

// A clock for tests and `--skip-waits`: it never sleeps; SleepUntil() moves its time forward to
// the deadline (never backward). Advance() moves it by hand.
class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t start_ms) : now_(start_ms) {}
  int64_t NowMs() override { return now_.load(); }
  bool SleepUntil(int64_t deadline_ms, const std::atomic<bool>* cancel) override;
  void Advance(int64_t ms) { now_.fetch_add(ms); }

 private:
  std::atomic<int64_t> now_;
};

// Days from 1970-01-01 to year-month-day in the proleptic Gregorian calendar (negative before
// 1970). Exact for every int64 year whose result fits; month 1-12, day 1-31.
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);

}  // namespace vqi
