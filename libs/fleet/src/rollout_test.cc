// The staged rollout planner over 24 simulated things and a fake clock: the stages follow the
// exponential rate, failures past the abort threshold stop it, timeouts, and the KPI halt.
#include "vqi/fleet/rollout.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace vqi::fleet {
namespace {

constexpr int64_t kMinute = 60000;

// A fleet that reacts to notifications the way the test tells it to.
class SimFleet {
 public:
  explicit SimFleet(int n) {
    for (int i = 0; i < n; ++i) {
      char name[16];
      std::snprintf(name, sizeof name, "cam-%02d", i);
      ThingRollout t;
      t.thing = name;
      things_.push_back(t);
    }
  }
  // Plans one step at `now`, applies it: notified things go IN_PROGRESS at once.
  RolloutDecision Step(const RolloutPlanner& p, int64_t now) {
    RolloutDecision d = p.Step(now, things_, state_);
    for (const std::string& t : d.notify) {
      ThingRollout& r = Get(t);
      r.notified_ms = now;
      r.status = DeviceStatus::kInProgress;
      r.in_progress_ms = now;
    }
    for (const std::string& t : d.timed_out) Get(t).status = DeviceStatus::kTimedOut;
    for (const std::string& t : d.cancel) Get(t).status = DeviceStatus::kCanceled;
    state_ = d.state;
    return d;
  }
  ThingRollout& Get(const std::string& name) {
    for (ThingRollout& t : things_)
      if (t.thing == name) return t;
    ADD_FAILURE() << name;
    return things_[0];
  }
  // Every IN_PROGRESS thing finishes with `s`.
  void Finish(DeviceStatus s) {
    for (ThingRollout& t : things_)
      if (t.status == DeviceStatus::kInProgress) t.status = s;
  }
  int Count(DeviceStatus s) const {
    int n = 0;
    for (const ThingRollout& t : things_) n += t.status == s;
    return n;
  }
  const RolloutState& state() const { return state_; }
  std::vector<ThingRollout>& things() { return things_; }

 private:
  std::vector<ThingRollout> things_;
  RolloutState state_;
};

RolloutConfig Exponential(int64_t base, double factor, int64_t notified, int64_t succeeded,
                          int64_t max) {
  RolloutConfig c;
  c.exponential = true;
  c.base_rate_per_minute = base;
  c.increment_factor = factor;
  c.criteria.notified_things = notified;
  c.criteria.succeeded_things = succeeded;
  c.maximum_per_minute = max;
  return c;
}

TEST(RolloutTest, StagesGrowByFactorUntilDone) {
  SimFleet fleet(24);
  RolloutPlanner p(Exponential(2, 2.0, 2, 0, 1000));
  std::vector<size_t> stages;
  for (int minute = 0; minute < 10; ++minute) {
    RolloutDecision d = fleet.Step(p, minute * kMinute);
    // A second step inside the same minute notifies nobody: the rate is per minute.
    EXPECT_TRUE(fleet.Step(p, minute * kMinute + 30000).notify.empty()) << minute;
    if (!d.notify.empty()) stages.push_back(d.notify.size());
    fleet.Finish(DeviceStatus::kSucceeded);
  }
  EXPECT_EQ(stages, (std::vector<size_t>{2, 4, 8, 10}));
  fleet.Step(p, 11 * kMinute);
  EXPECT_EQ(fleet.state().phase, RolloutPhase::kCompleted);
  EXPECT_EQ(fleet.Count(DeviceStatus::kSucceeded), 24);
}

TEST(RolloutTest, RateCappedAtMaximum) {
  SimFleet fleet(30);
  RolloutPlanner p(Exponential(3, 5.0, 3, 0, 7));
  std::vector<size_t> stages;
  for (int minute = 0; minute < 6; ++minute) {
    stages.push_back(fleet.Step(p, minute * kMinute).notify.size());
    fleet.Finish(DeviceStatus::kSucceeded);
  }
  EXPECT_EQ(stages, (std::vector<size_t>{3, 7, 7, 7, 6, 0}));
}

TEST(RolloutTest, SucceededCriteriaWaitsForSuccesses) {
  SimFleet fleet(20);
  RolloutPlanner p(Exponential(2, 2.0, 0, 2, 100));
  EXPECT_EQ(fleet.Step(p, 0).notify.size(), 2u);
  // Nobody finished: the rate stays at 2.
  EXPECT_EQ(fleet.Step(p, kMinute).notify.size(), 2u);
  fleet.Finish(DeviceStatus::kSucceeded);  // 4 succeeded
  EXPECT_EQ(fleet.Step(p, 2 * kMinute).notify.size(), 4u);
  EXPECT_EQ(fleet.state().rate_per_minute, 4);
}

TEST(RolloutTest, AbortAtThresholdCancelsAndRollsBack) {
  SimFleet fleet(20);
  RolloutConfig c = Exponential(5, 2.0, 5, 0, 100);
  c.abort.push_back({"FAILED", "CANCEL", 30, 8});
  RolloutPlanner p(c);
  fleet.Step(p, 0);                        // 5 notified
  fleet.Finish(DeviceStatus::kSucceeded);  // 5 ok
  fleet.Step(p, kMinute);                  // 10 more
  // 3 of the new batch fail, the rest succeed: 3 of 15 = 20% < 30%: go on.
  int failed = 0;
  for (ThingRollout& t : fleet.things())
    if (t.status == DeviceStatus::kInProgress)
      t.status = failed++ < 3 ? DeviceStatus::kFailedRollbackComplete : DeviceStatus::kSucceeded;
  RolloutDecision go = fleet.Step(p, 2 * kMinute);
  EXPECT_EQ(fleet.state().phase, RolloutPhase::kRunning);
  EXPECT_EQ(go.notify.size(), 5u);
  // 3 of the last 5 fail: 6 of 18 executed = 33% >= 30%.
  int more = 0;
  for (ThingRollout& t : fleet.things())
    if (t.status == DeviceStatus::kInProgress && more++ < 3)
      t.status = DeviceStatus::kFailedNoRollback;
  RolloutDecision stop = fleet.Step(p, 3 * kMinute);
  EXPECT_EQ(stop.state.phase, RolloutPhase::kAborted);
  EXPECT_NE(stop.state.reason.find("abort: FAILED 6 of 18 executed things"), std::string::npos)
      << stop.state.reason;
  EXPECT_EQ(stop.cancel.size(), 2u);      // the 2 still IN_PROGRESS
  EXPECT_EQ(stop.roll_back.size(), 14u);  // 12 SUCCEEDED + the 2 notified, unfinished
  EXPECT_TRUE(stop.notify.empty());
  // Aborted is final: nothing more happens.
  RolloutDecision after = fleet.Step(p, 10 * kMinute);
  EXPECT_TRUE(after.notify.empty() && after.cancel.empty() && after.roll_back.empty());
}

TEST(RolloutTest, AbortWaitsForMinimumExecuted) {
  SimFleet fleet(20);
  RolloutConfig c = Exponential(4, 2.0, 4, 0, 100);
  c.abort.push_back({"ALL", "CANCEL", 50, 5});
  RolloutPlanner p(c);
  fleet.Step(p, 0);
  fleet.Finish(DeviceStatus::kRejected);  // 4 of 4 rejected, but fewer than 5 executed
  RolloutDecision d = fleet.Step(p, kMinute);
  EXPECT_EQ(d.state.phase, RolloutPhase::kRunning);
  fleet.Get(d.notify[0]).status = DeviceStatus::kSucceeded;  // 5 executed, 4 failed = 80%
  EXPECT_EQ(fleet.Step(p, kMinute + 1000).state.phase, RolloutPhase::kAborted);
}

TEST(RolloutTest, InProgressTimesOut) {
  SimFleet fleet(20);
  RolloutConfig c;
  c.maximum_per_minute = 20;
  c.in_progress_timeout_minutes = 5;
  c.abort.push_back({"TIMED_OUT", "CANCEL", 50, 10});
  RolloutPlanner p(c);
  EXPECT_EQ(fleet.Step(p, 0).notify.size(), 20u);
  for (int i = 0; i < 12; ++i) fleet.things()[i].status = DeviceStatus::kSucceeded;
  EXPECT_TRUE(fleet.Step(p, 5 * kMinute - 1).timed_out.empty());
  RolloutDecision d = fleet.Step(p, 5 * kMinute);
  EXPECT_EQ(d.timed_out.size(), 8u);
  EXPECT_EQ(fleet.Count(DeviceStatus::kTimedOut), 8);
  // 8 of 20 = 40% < 50%: all executed, the rollout completes.
  EXPECT_EQ(d.state.phase, RolloutPhase::kCompleted);
}

TEST(RolloutTest, KpiRegressionHaltsAndRollsBack) {
  SimFleet fleet(20);
  RolloutConfig c = Exponential(4, 2.0, 4, 0, 100);
  c.kpi = KpiConfig{"defect_rate", true, 20, 100, 3};
  RolloutPlanner p(c);
  fleet.Step(p, 0);
  fleet.Finish(DeviceStatus::kSucceeded);
  // 2 devices report a big regression: fewer than minReportingThings, keep going.
  fleet.things()[0].kpi = KpiReport{"defect_rate", 0.02, 0.05, 100};
  fleet.things()[1].kpi = KpiReport{"defect_rate", 0.02, 0.05, 100};
  EXPECT_EQ(fleet.Step(p, kMinute).state.phase, RolloutPhase::kRunning);
  // A third within 10%, and another metric ignored: mean 0.02 → 0.04 = +100% > 20%.
  fleet.things()[2].kpi = KpiReport{"defect_rate", 0.02, 0.02, 100};
  fleet.things()[3].kpi = KpiReport{"latency_ms", 10, 1000, 100};
  RolloutDecision d = fleet.Step(p, kMinute + 1000);
  EXPECT_EQ(d.state.phase, RolloutPhase::kHalted);
  EXPECT_NE(d.state.reason.find("KPI halt: defect_rate regressed 100% (mean 0.02 before, 0.04 "
                                "after, over 3 updated things)"),
            std::string::npos)
      << d.state.reason;
  EXPECT_EQ(d.roll_back.size(), 12u);  // 4 SUCCEEDED + 8 notified IN_PROGRESS
  EXPECT_EQ(d.cancel.size(), 16u);     // 8 IN_PROGRESS + 8 never notified
}

TEST(RolloutTest, KpiWithinThresholdAndHigherIsBetter) {
  SimFleet fleet(20);
  RolloutConfig c;
  c.maximum_per_minute = 5;
  c.kpi = KpiConfig{"accuracy", false, 5, 100, 1};
  RolloutPlanner p(c);
  fleet.Step(p, 0);
  fleet.Finish(DeviceStatus::kSucceeded);
  fleet.things()[0].kpi = KpiReport{"accuracy", 0.90, 0.88, 100};  // -2.2%: fine
  EXPECT_EQ(fleet.Step(p, kMinute).state.phase, RolloutPhase::kRunning);
  fleet.things()[1].kpi = KpiReport{"accuracy", 0.90, 0.70, 100};  // mean -12.2% > 5%
  EXPECT_EQ(fleet.Step(p, kMinute + 1).state.phase, RolloutPhase::kHalted);
}

TEST(RolloutTest, StateJsonRoundTrip) {
  RolloutState s;
  s.phase = RolloutPhase::kHalted;
  s.rate_per_minute = 8;
  s.window_start_ms = 123456;
  s.notified_in_window = 3;
  s.notified_at_increase = 6;
  s.succeeded_at_increase = 5;
  s.reason = "KPI halt";
  auto back = RolloutStateFromJson(RolloutStateToJson(s));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, s);
  EXPECT_FALSE(RolloutStateFromJson("{\"phase\":\"DANCING\"}").ok());
  EXPECT_FALSE(RolloutStateFromJson("garbage").ok());
}

}  // namespace
}  // namespace vqi::fleet
