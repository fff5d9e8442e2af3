// Deployments over real stores: resolution refused at creation with the resolver's message,
// supersede, the union of a thing's groups with conflicts naming both deployments, the status
// machine and replayed reports.
#include "vqi/fleet/deploy.h"

#include <gtest/gtest.h>

#include "test_fixture.h"

namespace vqi::fleet {
namespace {

class DeployTest : public FleetFixture {
 protected:
  void SetUp() override {
    FleetFixture::SetUp();
    PutComponent("com.acme.Runtime", "1.0.0");
    PutComponent("com.acme.Runtime", "1.4.0");
    PutComponent("com.acme.Runtime", "2.0.0");
    PutComponent("com.acme.Model", "1.0.0", {{"com.acme.Runtime", "^1.0.0"}});
    PutComponent("com.acme.Model", "2.0.0", {{"com.acme.Runtime", "^2.0.0"}});
    PutComponent("com.acme.Tool", "1.0.0", {{"com.acme.Runtime", "<1.2.0"}});
    MakeThing("cam-1", "line-1");
    MakeThing("cam-2", "line-1");
    MakeThing("cam-3", "line-2");
  }
  static std::string Doc(const std::string& component, const std::string& version) {
    return R"({"deploymentName": "d", "components": {")" + component +
           R"(": {"componentVersion": ")" + version + R"("}}})";
  }
  Result<CreateOutcome> Create(const std::string& target, const std::string& doc) {
    return CreateDeployment(*fleet_, *components_, *ParseTarget(target), doc);
  }
};

TEST_F(DeployTest, CreateResolvesDependencies) {
  auto out = Create("group:line-1", Doc("com.acme.Model", "1.0.0"));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->deployment.id, "dep-1");
  EXPECT_EQ(out->things, (std::vector<std::string>{"cam-1", "cam-2"}));
  EXPECT_EQ(out->deployment.resolved,
            (std::map<std::string, std::string>{{"com.acme.Model", "1.0.0"},
                                                {"com.acme.Runtime", "1.4.0"}}));
  auto st = fleet_->DeviceStatuses("dep-1");
  ASSERT_TRUE(st.ok());
  ASSERT_EQ(st->size(), 2u);
  EXPECT_EQ((*st)[0].status, DeviceStatus::kQueued);
  auto desired = ComputeDesiredState(*fleet_, *components_, "cam-2");
  ASSERT_TRUE(desired.ok()) << desired.status().ToString();
  EXPECT_EQ(desired->deployment_id, "dep-1");
  EXPECT_EQ(desired->components.at("com.acme.Runtime").version, "1.4.0");
  // The document round-trips through the agent's parser.
  desired->sequence = 1;
  EXPECT_TRUE(ParseDesiredState(DesiredStateToJson(*desired), "cam-2").ok());
}

TEST_F(DeployTest, RefusedAtCreationWithResolverMessage) {
  auto unknown = Create("thing:cam-1", Doc("com.acme.Nope", "1.0.0"));
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound) << unknown.status().ToString();
  EXPECT_NE(unknown.status().message().find("com.acme.Nope"), std::string::npos);
  auto version = Create("thing:cam-1", Doc("com.acme.Model", "3.0.0"));
  EXPECT_FALSE(version.ok());
  EXPECT_NE(version.status().message().find("com.acme.Model"), std::string::npos)
      << version.status().message();
  EXPECT_NE(version.status().message().find("1.0.0"), std::string::npos)
      << "names the available versions: " << version.status().message();
  // Model 2 needs Runtime ^2, Tool needs Runtime <1.2: unsatisfiable.
  auto clash = Create("thing:cam-1", R"({"components": {
      "com.acme.Model": {"componentVersion": "2.0.0"},
      "com.acme.Tool": {"componentVersion": "1.0.0"}}})");
  EXPECT_EQ(clash.status().code(), StatusCode::kFailedPrecondition) << clash.status().ToString();
  EXPECT_NE(clash.status().message().find("com.acme.Runtime"), std::string::npos)
      << clash.status().message();
  auto nothing = Create("group:line-9", Doc("com.acme.Model", "1.0.0"));
  EXPECT_EQ(nothing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Create("thing:cam-1", "{bad").status().code(), StatusCode::kInvalidArgument);
  auto list = fleet_->ListDeployments();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty()) << "nothing stored after refusals";
}

TEST_F(DeployTest, NewerDeploymentSupersedes) {
  ASSERT_TRUE(Create("group:line-1", Doc("com.acme.Model", "1.0.0")).ok());
  ASSERT_TRUE(ApplyStatusReport(*fleet_,
                                {"cam-1", "dep-1", 1, DeviceStatus::kSucceeded, "", {}, {}, ""},
                                clock_.NowMs())
                  .ok());
  auto second = Create("group:line-1", Doc("com.acme.Model", "2.0.0"));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->superseded, "dep-1");
  EXPECT_EQ(fleet_->GetDeployment("dep-1")->superseded_by, "dep-2");
  // cam-1 had finished dep-1; cam-2 had not: canceled in favour of dep-2.
  EXPECT_EQ(fleet_->GetDeviceStatus("dep-1", "cam-1")->status, DeviceStatus::kSucceeded);
  auto cam2 = fleet_->GetDeviceStatus("dep-1", "cam-2");
  EXPECT_EQ(cam2->status, DeviceStatus::kCanceled);
  EXPECT_EQ(cam2->reason, "superseded by dep-2");
  EXPECT_EQ(ComputeDesiredState(*fleet_, *components_, "cam-1")
                ->components.at("com.acme.Runtime")
                .version,
            "2.0.0");
}

TEST_F(DeployTest, RollbackReturnsToTheSupersededSet) {
  ASSERT_TRUE(Create("group:line-1", Doc("com.acme.Model", "1.0.0")).ok());
  auto first = RollbackDesiredState(*fleet_, *components_, "cam-1", "dep-1");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->components.empty()) << "nothing ran before dep-1";
  ASSERT_TRUE(Create("group:line-1", Doc("com.acme.Model", "2.0.0")).ok());
  ASSERT_TRUE(fleet_->AddToGroup("cam-1", "line-2").ok());
  // Tool needs Runtime <1.2, Model 2 needs ^2: refused, so line-2 adds nothing.
  EXPECT_FALSE(Create("group:line-2", Doc("com.acme.Tool", "1.0.0")).ok());
  auto back = RollbackDesiredState(*fleet_, *components_, "cam-1", "dep-2");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->deployment_id, "dep-1");
  EXPECT_EQ(back->components.at("com.acme.Model").version, "1.0.0");
  EXPECT_EQ(back->components.at("com.acme.Runtime").version, "1.4.0");
}

TEST_F(DeployTest, UnionOfGroupsAndConflictNamesBoth) {
  ASSERT_TRUE(fleet_->AddToGroup("cam-1", "line-2").ok());
  ASSERT_TRUE(Create("group:line-1", Doc("com.acme.Model", "1.0.0")).ok());
  // line-2's deployment adds Tool; on cam-1 both resolve together (Runtime 1.0.0 satisfies
  // both ^1.0.0 and <1.2.0), on cam-3 only Tool.
  ASSERT_TRUE(Create("group:line-2", Doc("com.acme.Tool", "1.0.0")).ok());
  auto cam1 = ComputeDesiredState(*fleet_, *components_, "cam-1");
  ASSERT_TRUE(cam1.ok()) << cam1.status().ToString();
  EXPECT_EQ(cam1->deployment_id, "dep-2");
  EXPECT_EQ(cam1->components.size(), 3u);
  EXPECT_EQ(cam1->components.at("com.acme.Runtime").version, "1.0.0");
  EXPECT_EQ(ComputeDesiredState(*fleet_, *components_, "cam-3")->components.size(), 2u);

  // A thing-level deployment asking Model 2.0.0 conflicts with line-1's Model 1.0.0.
  auto conflict = Create("thing:cam-1", Doc("com.acme.Model", "2.0.0"));
  ASSERT_EQ(conflict.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(conflict.status().message(),
            "thing cam-1: component com.acme.Model: deployment dep-1 (group:line-1) requires "
            "1.0.0, the new deployment (thing:cam-1) requires 2.0.0");
  // A dependency conflict: Model 2 (Runtime ^2) against line-2's Tool (Runtime <1.2) via a group
  // add: refused naming both deployments, membership unchanged.
  MakeThing("cam-5");
  ASSERT_TRUE(Create("thing:cam-5", Doc("com.acme.Runtime", "2.0.0")).ok());
  Status add = AddThingToGroup(*fleet_, *components_, "cam-5", "line-2");
  EXPECT_EQ(add.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(add.message().find("deployment dep-3 (thing:cam-5)"), std::string::npos)
      << add.message();
  EXPECT_NE(add.message().find("deployment dep-2 (group:line-2)"), std::string::npos)
      << add.message();
  EXPECT_TRUE(fleet_->GetThing("cam-5")->groups.empty());
  // A compatible add joins the group's live deployment as QUEUED.
  MakeThing("cam-4");
  ASSERT_TRUE(AddThingToGroup(*fleet_, *components_, "cam-4", "line-2").ok());
  EXPECT_EQ(fleet_->GetDeviceStatus("dep-2", "cam-4")->status, DeviceStatus::kQueued);
}

TEST_F(DeployTest, StatusTransitionsAndReplay) {
  ASSERT_TRUE(Create("thing:cam-1", Doc("com.acme.Model", "1.0.0")).ok());
  const int64_t now = clock_.NowMs();
  StatusReport r{"cam-1", "dep-1", 5, DeviceStatus::kInProgress, "", {}, {}, ""};
  auto a = ApplyStatusReport(*fleet_, r, now);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->in_progress_ms, now);
  // Replayed (same sequence) and older reports are refused, store unchanged.
  auto replay = ApplyStatusReport(*fleet_, r, now + 1);
  EXPECT_EQ(replay.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(replay.status().message().find("sequence 5 is not above the last accepted 5"),
            std::string::npos);
  r.sequence = 3;
  r.status = DeviceStatus::kSucceeded;
  EXPECT_FALSE(ApplyStatusReport(*fleet_, r, now + 1).ok());
  EXPECT_EQ(fleet_->GetDeviceStatus("dep-1", "cam-1")->status, DeviceStatus::kInProgress);
  // A device may not claim server-only states nor go back to QUEUED.
  r.sequence = 6;
  r.status = DeviceStatus::kCanceled;
  EXPECT_NE(ApplyStatusReport(*fleet_, r, now)
                .status()
                .message()
                .find("IN_PROGRESS -> CANCELED is not allowed: only the server sets it"),
            std::string::npos);
  r.status = DeviceStatus::kQueued;
  EXPECT_FALSE(ApplyStatusReport(*fleet_, r, now).ok());
  // Progress, then final.
  r.status = DeviceStatus::kInProgress;
  ASSERT_TRUE(ApplyStatusReport(*fleet_, r, now + 5).ok());
  EXPECT_EQ(fleet_->GetDeviceStatus("dep-1", "cam-1")->in_progress_ms, now);
  r.sequence = 7;
  r.status = DeviceStatus::kFailedRollbackComplete;
  r.reason = "com.acme.Model run exited 1";
  ASSERT_TRUE(ApplyStatusReport(*fleet_, r, now + 9).ok());
  r.sequence = 8;
  r.status = DeviceStatus::kSucceeded;
  EXPECT_NE(ApplyStatusReport(*fleet_, r, now)
                .status()
                .message()
                .find("FAILED_ROLLBACK_COMPLETE is final"),
            std::string::npos);
  // Unknown deployment, thing not in it.
  r.deployment_id = "dep-7";
  EXPECT_EQ(ApplyStatusReport(*fleet_, r, now).status().code(), StatusCode::kNotFound);
  r.deployment_id = "dep-1";
  r.thing = "cam-2";
  EXPECT_EQ(ApplyStatusReport(*fleet_, r, now).status().code(), StatusCode::kNotFound);
  auto h = fleet_->History("dep-1", "cam-1");
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 3u);  // QUEUED, IN_PROGRESS, FAILED_ROLLBACK_COMPLETE
  EXPECT_EQ((*h)[2].reason, "com.acme.Model run exited 1");
}

TEST_F(DeployTest, ReportCountsForEveryUnitedDeployment) {
  ASSERT_TRUE(fleet_->AddToGroup("cam-1", "line-2").ok());
  ASSERT_TRUE(Create("group:line-1", Doc("com.acme.Model", "1.0.0")).ok());
  ASSERT_TRUE(Create("group:line-2", Doc("com.acme.Tool", "1.0.0")).ok());
  auto live = LiveDeploymentsOf(*fleet_, "cam-1");
  ASSERT_TRUE(live.ok());
  ASSERT_EQ(live->size(), 2u);
  EXPECT_EQ((*live)[1].id, "dep-2");
  // cam-1 runs the union (deploymentId dep-2) and reports on dep-2 only.
  ASSERT_TRUE(ApplyStatusReport(*fleet_,
                                {"cam-1", "dep-2", 1, DeviceStatus::kSucceeded, "ok", {}, {}, ""},
                                clock_.NowMs())
                  .ok());
  auto via = fleet_->GetDeviceStatus("dep-1", "cam-1");
  EXPECT_EQ(via->status, DeviceStatus::kSucceeded);
  EXPECT_EQ(via->reason, "via dep-2: ok");
  EXPECT_EQ(fleet_->GetDeviceStatus("dep-1", "cam-2")->status, DeviceStatus::kQueued);
  // Leaving a group cancels the unfinished status there.
  ASSERT_TRUE(RemoveThingFromGroup(*fleet_, "cam-2", "line-1", clock_.NowMs()).ok());
  auto left = fleet_->GetDeviceStatus("dep-1", "cam-2");
  EXPECT_EQ(left->status, DeviceStatus::kCanceled);
  EXPECT_EQ(left->reason, "left group line-1");
  EXPECT_EQ(RemoveThingFromGroup(*fleet_, "cam-2", "line-1", clock_.NowMs()).code(),
            StatusCode::kNotFound);
}

TEST_F(DeployTest, CancelMarksUnfinishedDevices) {
  ASSERT_TRUE(Create("group:line-1", Doc("com.acme.Model", "1.0.0")).ok());
  ASSERT_TRUE(ApplyStatusReport(*fleet_,
                                {"cam-1", "dep-1", 1, DeviceStatus::kSucceeded, "", {}, {}, ""},
                                clock_.NowMs())
                  .ok());
  ASSERT_TRUE(CancelDeployment(*fleet_, "dep-1", clock_.NowMs()).ok());
  EXPECT_EQ(fleet_->GetDeviceStatus("dep-1", "cam-1")->status, DeviceStatus::kSucceeded);
  EXPECT_EQ(fleet_->GetDeviceStatus("dep-1", "cam-2")->status, DeviceStatus::kCanceled);
  EXPECT_EQ(CancelDeployment(*fleet_, "dep-1", clock_.NowMs()).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(ComputeDesiredState(*fleet_, *components_, "cam-1").status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace vqi::fleet
