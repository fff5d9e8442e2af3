// Acceptance 2 (issue 19): staged rollouts against a real Mosquitto and 24 simulated devices
// speaking the real protocol (each an MqttClient with its own device certificate from the vqi
// CA). A rollout "minute" is shortened (RolloutTiming) so the stages take seconds: stages follow
// the exponential rate and its criteria; failures past the abort threshold stop the rollout and
// roll the updated devices back; a KPI regression halts it and rolls back too.
#include "controller_test_fixture.h"

namespace vqi::fleet::controller_testing {
namespace {

TEST_F(ControllerTest, RolloutProceedsInStagesAfterTheCriteria) {
  constexpr int64_t kMinuteMs = 2000;
  StartController(kMinuteMs);
  // The first 4 devices take 5 s: at the second window nothing has succeeded yet, so the rate
  // stays 4; after that the next 4 have succeeded and it doubles. KPI within the threshold.
  StartDevices([](const DesiredState& d) {
    SimBehavior b;
    b.delay_ms = (d.thing < "cam-04") ? 5000 : 0;
    b.kpi_before = 0.10;
    b.kpi_after = 0.10;
    return b;
  });
  const auto t0 = Steady::now();
  const std::string id = Deploy("group:line", "1.0.0", kStaged,
                                R"({"kpi": {"metric": "defect_rate", "direction": "LOWER_IS_BETTER",
          "maxRegressionPercent": 20, "window": 10, "minReportingThings": 3}})");
  RolloutState st = WaitPhase(id, RolloutPhase::kCompleted);
  const double seconds = std::chrono::duration<double>(Steady::now() - t0).count();
  std::printf("staged rollout of %d devices: %.2f s\n", kThings, seconds);

  auto records = fleet_->DeviceStatuses(id);
  ASSERT_TRUE(records.ok());
  std::map<int64_t, int> stages;  // notified_ms -> things notified by that step
  for (const DeviceStatusRecord& r : *records) {
    EXPECT_EQ(r.status, DeviceStatus::kSucceeded) << r.thing << " " << r.reason;
    ASSERT_TRUE(r.kpi.has_value()) << r.thing << ": the KPI report after SUCCEEDED was refused";
    EXPECT_EQ(r.kpi->metric, "defect_rate");
    ++stages[r.notified_ms];
  }
  std::vector<int> sizes;
  std::vector<int64_t> times;
  for (const auto& [ms, n] : stages) {
    sizes.push_back(n);
    times.push_back(ms);
  }
  EXPECT_EQ(sizes, (std::vector<int>{4, 4, 8, 8}));
  for (size_t i = 1; i < times.size(); ++i)
    EXPECT_GE(times[i] - times[i - 1], kMinuteMs) << "stage " << i;
  // Stage order follows the rollout order (thing names).
  for (int i = 0; i + 1 < kThings; ++i)
    EXPECT_LE((*records)[i].notified_ms, (*records)[i + 1].notified_ms);
  for (auto& d : devices_) {
    EXPECT_TRUE(WaitRunning(*d, "1.0.0")) << d->thing();
    EXPECT_EQ(d->Received().size(), 1u) << d->thing();
    EXPECT_EQ(d->Ignored(), 0u) << d->thing();
  }
  EXPECT_EQ(st.reason, "");
  ControllerStats s = controller_->Stats();
  EXPECT_EQ(s.status_refused, 0u) << s.last_error;
  EXPECT_EQ(s.desired_enqueued, static_cast<uint64_t>(kThings));
}

TEST_F(ControllerTest, FailuresPastTheAbortThresholdStopAndRollBack) {
  StartController(1500);
  StartDevices([](const DesiredState& d) {
    SimBehavior b;
    if (d.components.at(kModel).version != "2.0.0") return b;
    if (d.thing >= "cam-04" && d.thing <= "cam-06")
      b.outcome = DeviceStatus::kFailedRollbackComplete;
    if (d.thing >= "cam-07") b.delay_ms = 3000;  // still installing when the abort comes
    return b;
  });
  Baseline();
  const std::string id =
      Deploy("group:line", "2.0.0",
             R"({"jobExecutionsRolloutConfig": {"maximumPerMinute": 1000, "exponentialRate":
          {"baseRatePerMinute": 4, "incrementFactor": 2,
           "rateIncreaseCriteria": {"numberOfSucceededThings": 4}}},
          "abortConfig": {"criteriaList": [{"failureType": "FAILED", "action": "CANCEL",
            "thresholdPercentage": 20, "minNumberOfExecutedThings": 7}]}})");
  RolloutState st = WaitPhase(id, RolloutPhase::kAborted);
  EXPECT_NE(st.reason.find("abort: FAILED 3 of 7 executed things"), std::string::npos) << st.reason;
  // Nothing is notified after the abort, even after further windows.
  std::this_thread::sleep_for(std::chrono::milliseconds(3200));
  std::set<std::string> updated = ReceivedFrom(id);
  std::set<std::string> first12;
  for (int i = 0; i < 12; ++i) first12.insert(Name(i));
  EXPECT_EQ(updated, first12);  // stage 1: 4, stage 2: 8
  for (auto& d : devices_) {
    const std::string t = d->thing();
    EXPECT_TRUE(WaitRunning(*d, "1.0.0")) << t << " is not back on 1.0.0";
    auto got = d->Received();
    const bool failed = t >= "cam-04" && t <= "cam-06";
    const bool rolled_back = updated.count(t) && !failed;
    if (rolled_back) {
      // The previous desired state came after the new one, with a higher sequence.
      ASSERT_EQ(got.size(), 3u) << t;
      EXPECT_EQ(got[1].state.deployment_id, id);
      EXPECT_EQ(got[2].state.components.at(kModel).version, "1.0.0") << t;
      EXPECT_GT(got[2].state.sequence, got[1].state.sequence);
    } else {
      EXPECT_EQ(got.size(), updated.count(t) ? 2u : 1u) << t;
    }
  }
  auto records = fleet_->DeviceStatuses(id);
  ASSERT_TRUE(records.ok());
  int canceled = 0, failed = 0, succeeded = 0;
  for (const DeviceStatusRecord& r : *records) {
    canceled += r.status == DeviceStatus::kCanceled;
    failed += r.status == DeviceStatus::kFailedRollbackComplete;
    succeeded += r.status == DeviceStatus::kSucceeded;
  }
  EXPECT_EQ(failed, 3);
  // `vqi deployment status` shows where the rolled-back things went.
  for (const DeviceStatusRecord& r : *records) {
    const bool rolled = r.thing <= "cam-03" || (r.thing >= "cam-07" && r.thing <= "cam-11");
    EXPECT_EQ(r.reason.find("rolled back to dep-1 (desired sequence ") != std::string::npos, rolled)
        << r.thing << ": " << r.reason;
  }
  EXPECT_EQ(succeeded, 4);
  EXPECT_EQ(canceled, kThings - 7);
}

TEST_F(ControllerTest, KpiRegressionHaltsAndRollsBack) {
  StartController(2500);
  StartDevices([](const DesiredState& d) {
    SimBehavior b;
    if (d.components.at(kModel).version == "2.0.0") {
      b.kpi_before = 0.05;  // defect rate doubles with the new model
      b.kpi_after = 0.10;
    }
    return b;
  });
  Baseline();
  const std::string id = Deploy("group:line", "2.0.0", kStaged,
                                R"({"kpi": {"metric": "defect_rate", "direction": "LOWER_IS_BETTER",
          "maxRegressionPercent": 20, "window": 50, "minReportingThings": 3}})");
  RolloutState st = WaitPhase(id, RolloutPhase::kHalted);
  EXPECT_NE(st.reason.find("KPI halt: defect_rate regressed 100%"), std::string::npos) << st.reason;
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  std::set<std::string> updated = ReceivedFrom(id);
  EXPECT_EQ(updated, (std::set<std::string>{"cam-00", "cam-01", "cam-02", "cam-03"}));
  for (auto& d : devices_) {
    EXPECT_TRUE(WaitRunning(*d, "1.0.0")) << d->thing();
    auto got = d->Received();
    if (updated.count(d->thing())) {
      ASSERT_EQ(got.size(), 3u) << d->thing();
      EXPECT_EQ(got[2].state.components.at(kModel).version, "1.0.0");
      EXPECT_TRUE(got[1].state.kpi.has_value());  // the device was told what to measure
    } else {
      EXPECT_EQ(got.size(), 1u) << d->thing();
    }
  }
}

}  // namespace
}  // namespace vqi::fleet::controller_testing
