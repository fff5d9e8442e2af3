// Clocks and the shared civil-calendar helper.
#include "vqi/base/clock.h"

#include <gtest/gtest.h>

namespace vqi {
namespace {

TEST(Clock, DaysFromCivil) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(2024, 2, 29) + 1, DaysFromCivil(2024, 3, 1));
  EXPECT_EQ(DaysFromCivil(9999, 12, 31), 2932896);
}

TEST(Clock, FakeClockOnlyMovesForward) {
  FakeClock c(1000);
  EXPECT_TRUE(c.SleepUntil(5000, nullptr));
  EXPECT_EQ(c.NowMs(), 5000);
  EXPECT_TRUE(c.SleepUntil(10, nullptr));
  EXPECT_EQ(c.NowMs(), 5000);
  c.Advance(7);
  EXPECT_EQ(c.NowMs(), 5007);
  std::atomic<bool> cancel{true};
  EXPECT_FALSE(c.SleepUntil(6000, &cancel));
}

TEST(Clock, RealClockIsNearSystemTimeAndHonoursCancel) {
  int64_t now = RealClock().NowMs();
  EXPECT_GT(now, 1'600'000'000'000);
  std::atomic<bool> cancel{true};
  EXPECT_FALSE(RealClock().SleepUntil(now + 60000, &cancel));
  EXPECT_TRUE(RealClock().SleepUntil(now - 1, nullptr));
}

}  // namespace
}  // namespace vqi
