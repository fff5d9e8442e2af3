// A staged rollout over the store with 24 things speaking the real status protocol (reports
// serialized and parsed as the server will receive them), on a fake clock.
#include "vqi/fleet/rollout_step.h"

#include <gtest/gtest.h>

#include <cstdio>

#include "test_fixture.h"
#include "vqi/fleet/deploy.h"
#include "vqi/fleet/status_report.h"

namespace vqi::fleet {
namespace {

constexpr int64_t kMinute = 60000;

class RolloutStepTest : public FleetFixture {
 protected:
  void SetUp() override {
    FleetFixture::SetUp();
    PutComponent("com.acme.Model", "1.0.0");
    for (int i = 0; i < 24; ++i) {
      char name[16];
      std::snprintf(name, sizeof name, "cam-%02d", i);
      MakeThing(name, "line-1");
    }
  }
  // The device side: a report on the wire, parsed and applied as the server does.
  Status Report(const std::string& thing, DeviceStatus s,
                std::optional<KpiReport> kpi = std::nullopt) {
    StatusReport r;
    r.kpi = kpi;
    r.thing = thing;
    r.deployment_id = "dep-1";
    r.sequence = ++sequence_[thing];
    r.status = s;
    r.at = "2026-12-06T07:00:00Z";
    auto parsed = ParseStatusReport(StatusReportToJson(r), thing);
    if (!parsed.ok()) return parsed.status();
    return ApplyStatusReport(*fleet_, *parsed, clock_.NowMs()).status();
  }
  int Count(DeviceStatus s) {
    auto all = fleet_->DeviceStatuses("dep-1");
    EXPECT_TRUE(all.ok());
    int n = 0;
    for (const DeviceStatusRecord& r : *all) n += r.status == s;
    return n;
  }
  std::map<std::string, int64_t> sequence_;
};

TEST_F(RolloutStepTest, StagesThenAbortCancelsAndRollsBack) {
  auto created = CreateDeployment(*fleet_, *components_, *ParseTarget("group:line-1"), R"({
    "components": {"com.acme.Model": {"componentVersion": "1.0.0"}},
    "iotJobConfiguration": {
      "jobExecutionsRolloutConfig": {"maximumPerMinute": 100, "exponentialRate":
        {"baseRatePerMinute": 3, "incrementFactor": 2,
         "rateIncreaseCriteria": {"numberOfNotifiedThings": 3}}},
      "abortConfig": {"criteriaList": [{"failureType": "FAILED", "action": "CANCEL",
        "thresholdPercentage": 25, "minNumberOfExecutedThings": 6}]}}})");
  ASSERT_TRUE(created.ok()) << created.status().ToString();

  auto s0 = AdvanceRollout(*fleet_, "dep-1", clock_.NowMs());
  ASSERT_TRUE(s0.ok()) << s0.status().ToString();
  EXPECT_EQ(s0->notify, (std::vector<std::string>{"cam-00", "cam-01", "cam-02"}));
  EXPECT_EQ(fleet_->GetDeviceStatus("dep-1", "cam-01")->notified_ms, clock_.NowMs());
  EXPECT_EQ(fleet_->GetDeviceStatus("dep-1", "cam-03")->notified_ms, -1);
  for (const std::string& t : s0->notify) {
    ASSERT_TRUE(Report(t, DeviceStatus::kInProgress).ok());
    ASSERT_TRUE(Report(t, DeviceStatus::kSucceeded).ok());
  }
  // Within the same minute nobody else is told.
  clock_.Advance(30000);
  EXPECT_TRUE(AdvanceRollout(*fleet_, "dep-1", clock_.NowMs())->notify.empty());

  clock_.Advance(30000);
  auto s1 = AdvanceRollout(*fleet_, "dep-1", clock_.NowMs());
  ASSERT_TRUE(s1.ok());
  ASSERT_EQ(s1->notify.size(), 6u);
  EXPECT_EQ(s1->state.rate_per_minute, 6);
  for (size_t i = 0; i < s1->notify.size(); ++i)
    ASSERT_TRUE(Report(s1->notify[i],
                       i < 3 ? DeviceStatus::kFailedRollbackComplete : DeviceStatus::kSucceeded)
                    .ok());

  clock_.Advance(kMinute);
  auto s2 = AdvanceRollout(*fleet_, "dep-1", clock_.NowMs());
  ASSERT_TRUE(s2.ok());
  EXPECT_EQ(s2->state.phase, RolloutPhase::kAborted);
  EXPECT_NE(s2->state.reason.find("FAILED 3 of 9 executed things"), std::string::npos)
      << s2->state.reason;
  EXPECT_TRUE(s2->notify.empty());
  EXPECT_EQ(s2->roll_back.size(), 6u);
  EXPECT_EQ(s2->canceled.size(), 15u);
  EXPECT_EQ(Count(DeviceStatus::kCanceled), 15);
  EXPECT_EQ(Count(DeviceStatus::kSucceeded), 6);
  // The state is stored: the next step does nothing; a late report on a canceled thing is refused.
  auto s3 = AdvanceRollout(*fleet_, "dep-1", clock_.NowMs() + kMinute);
  ASSERT_TRUE(s3.ok());
  EXPECT_EQ(s3->state.phase, RolloutPhase::kAborted);
  EXPECT_TRUE(s3->notify.empty() && s3->canceled.empty());
  EXPECT_FALSE(Report("cam-20", DeviceStatus::kInProgress).ok());
}

TEST_F(RolloutStepTest, TimeoutMarksStore) {
  ASSERT_TRUE(CreateDeployment(*fleet_, *components_, *ParseTarget("group:line-1"), R"({
    "components": {"com.acme.Model": {"componentVersion": "1.0.0"}},
    "iotJobConfiguration": {"timeoutConfig": {"inProgressTimeoutInMinutes": 2}}})")
                  .ok());
  auto s0 = AdvanceRollout(*fleet_, "dep-1", clock_.NowMs());
  ASSERT_TRUE(s0.ok());
  ASSERT_EQ(s0->notify.size(), 24u);
  for (const std::string& t : s0->notify) ASSERT_TRUE(Report(t, DeviceStatus::kInProgress).ok());
  ASSERT_TRUE(Report("cam-05", DeviceStatus::kSucceeded).ok());
  clock_.Advance(2 * kMinute);
  auto s1 = AdvanceRollout(*fleet_, "dep-1", clock_.NowMs());
  ASSERT_TRUE(s1.ok());
  EXPECT_EQ(s1->timed_out.size(), 23u);
  EXPECT_EQ(s1->state.phase, RolloutPhase::kCompleted);
  auto r = fleet_->GetDeviceStatus("dep-1", "cam-07");
  EXPECT_EQ(r->status, DeviceStatus::kTimedOut);
  EXPECT_EQ(r->reason, "IN_PROGRESS longer than 2 minutes");
  // A device that finishes after its timeout is refused: TIMED_OUT is final.
  EXPECT_NE(Report("cam-07", DeviceStatus::kSucceeded).message().find("TIMED_OUT is final"),
            std::string::npos);
}

// COMMON20 "KPI": the KPI comes after SUCCEEDED in a report repeating it; that report only
// updates the KPI, and the planner's halt uses it. Every other terminal repeat stays refused.
TEST_F(RolloutStepTest, KpiAfterSucceededIsAcceptedAndHalts) {
  ASSERT_TRUE(CreateDeployment(*fleet_, *components_, *ParseTarget("group:line-1"), R"({
    "components": {"com.acme.Model": {"componentVersion": "1.0.0"}},
    "iotJobConfiguration": {"jobExecutionsRolloutConfig": {"maximumPerMinute": 100,
      "exponentialRate": {"baseRatePerMinute": 4, "incrementFactor": 2,
        "rateIncreaseCriteria": {"numberOfSucceededThings": 4}}}},
    "vqiRolloutConfig": {"kpi": {"metric": "defect_rate", "direction": "LOWER_IS_BETTER", "maxRegressionPercent": 10,
      "window": 20, "minReportingThings": 3}}})")
                  .ok());
  auto s0 = AdvanceRollout(*fleet_, "dep-1", clock_.NowMs());
  ASSERT_TRUE(s0.ok());
  ASSERT_EQ(s0->notify.size(), 4u);
  for (const std::string& t : s0->notify) ASSERT_TRUE(Report(t, DeviceStatus::kSucceeded).ok());
  // Without KPI reports the rollout waits (bounded) instead of completing.
  clock_.Advance(1000);
  EXPECT_EQ(AdvanceRollout(*fleet_, "dep-1", clock_.NowMs())->state.phase, RolloutPhase::kRunning);
  const KpiReport worse{"defect_rate", 0.10, 0.20, 20};
  // A terminal repeat without a KPI, or with another status, is still refused.
  EXPECT_NE(Report("cam-00", DeviceStatus::kSucceeded).message().find("SUCCEEDED is final"),
            std::string::npos);
  EXPECT_FALSE(Report("cam-00", DeviceStatus::kFailedRollbackComplete, worse).ok());
  for (const char* t : {"cam-00", "cam-01", "cam-02"})
    ASSERT_TRUE(Report(t, DeviceStatus::kSucceeded, worse).ok()) << t;
  auto rec = fleet_->GetDeviceStatus("dep-1", "cam-01");
  ASSERT_TRUE(rec.ok());
  EXPECT_EQ(rec->status, DeviceStatus::kSucceeded);
  ASSERT_TRUE(rec->kpi.has_value());
  EXPECT_EQ(*rec->kpi, worse);
  // A replayed KPI report (same sequence) is refused.
  sequence_["cam-01"]--;
  EXPECT_FALSE(Report("cam-01", DeviceStatus::kSucceeded, worse).ok());
  auto s1 = AdvanceRollout(*fleet_, "dep-1", clock_.NowMs());
  ASSERT_TRUE(s1.ok());
  EXPECT_EQ(s1->state.phase, RolloutPhase::kHalted) << s1->state.reason;
  EXPECT_EQ(s1->roll_back.size(), 4u);
  EXPECT_TRUE(s1->notify.empty());
}

TEST_F(RolloutStepTest, ANewGroupMemberReopensACompletedRollout) {
  ASSERT_TRUE(CreateDeployment(*fleet_, *components_, *ParseTarget("group:line-1"), R"({
    "components": {"com.acme.Model": {"componentVersion": "1.0.0"}}})")
                  .ok());
  auto s0 = AdvanceRollout(*fleet_, "dep-1", clock_.NowMs());
  ASSERT_EQ(s0->notify.size(), 24u);
  for (const std::string& t : s0->notify) ASSERT_TRUE(Report(t, DeviceStatus::kSucceeded).ok());
  EXPECT_EQ(AdvanceRollout(*fleet_, "dep-1", clock_.NowMs())->state.phase,
            RolloutPhase::kCompleted);
  MakeThing("cam-99");
  ASSERT_TRUE(AddThingToGroup(*fleet_, *components_, "cam-99", "line-1").ok());
  auto s1 = AdvanceRollout(*fleet_, "dep-1", clock_.NowMs() + 1);
  ASSERT_TRUE(s1.ok());
  EXPECT_EQ(s1->notify, std::vector<std::string>{"cam-99"});
  ASSERT_TRUE(Report("cam-99", DeviceStatus::kSucceeded).ok());
  EXPECT_EQ(AdvanceRollout(*fleet_, "dep-1", clock_.NowMs() + 2)->state.phase,
            RolloutPhase::kCompleted);
}

TEST_F(RolloutStepTest, KpiWaitIsBounded) {
  ASSERT_TRUE(CreateDeployment(*fleet_, *components_, *ParseTarget("thing:cam-00"), R"({
    "components": {"com.acme.Model": {"componentVersion": "1.0.0"}},
    "vqiRolloutConfig": {"kpi": {"metric": "defect_rate", "direction": "LOWER_IS_BETTER", "maxRegressionPercent": 10}}})")
                  .ok());
  RolloutTiming timing;
  timing.kpi_wait_ms = 5000;
  ASSERT_EQ(AdvanceRollout(*fleet_, "dep-1", clock_.NowMs(), timing)->notify.size(), 1u);
  ASSERT_TRUE(Report("cam-00", DeviceStatus::kSucceeded).ok());
  clock_.Advance(4999);
  EXPECT_EQ(AdvanceRollout(*fleet_, "dep-1", clock_.NowMs(), timing)->state.phase,
            RolloutPhase::kRunning);
  clock_.Advance(1);
  EXPECT_EQ(AdvanceRollout(*fleet_, "dep-1", clock_.NowMs(), timing)->state.phase,
            RolloutPhase::kCompleted);
}

}  // namespace
}  // namespace vqi::fleet
