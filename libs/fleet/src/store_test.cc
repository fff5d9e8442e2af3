// The SQLite fleet store: things, groups, deployments with supersede, device status history,
// desired-state sequences.
#include <gtest/gtest.h>

#include "test_fixture.h"
#include "vqi/fleet/desired_state.h"
#include "vqi/fleet/health.h"
#include "vqi/fleet/thing_view.h"
#include "vqi/transport/topics.h"

namespace vqi::fleet {
namespace {

using StoreTest = FleetFixture;

TEST_F(StoreTest, Things) {
  auto t = fleet_->CreateThing("cam-1");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(t->created, "2026-11-30T00:53:20Z");
  EXPECT_EQ(fleet_->CreateThing("cam-1").status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(fleet_->CreateThing("cam/1").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(fleet_->CreateThing("vqi-server").status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(fleet_->GetThing("nope").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(fleet_->SetCertificate("cam-1", "0a1b", std::string(64, 'f')).ok());
  EXPECT_EQ(fleet_->SetCertificate("nope", "1", "2").code(), StatusCode::kNotFound);
  ASSERT_TRUE(fleet_->AddToGroup("cam-1", "line-2").ok());
  ASSERT_TRUE(fleet_->AddToGroup("cam-1", "line-1").ok());
  ASSERT_TRUE(fleet_->AddToGroup("cam-1", "line-1").ok());  // idempotent
  EXPECT_EQ(fleet_->AddToGroup("cam-1", "bad group").code(), StatusCode::kInvalidArgument);
  auto got = fleet_->GetThing("cam-1");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->cert_serial, "0a1b");
  EXPECT_EQ(got->groups, (std::vector<std::string>{"line-1", "line-2"}));
  ASSERT_TRUE(fleet_->RemoveFromGroup("cam-1", "line-2").ok());
  EXPECT_EQ(fleet_->RemoveFromGroup("cam-1", "line-2").code(), StatusCode::kNotFound);
  ASSERT_TRUE(fleet_->RevokeThing("cam-1").ok());
  EXPECT_EQ(fleet_->AddToGroup("cam-1", "line-3").code(), StatusCode::kFailedPrecondition);
  auto list = fleet_->ListThings();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_FALSE(list->front().revoked.empty());
}

TEST_F(StoreTest, DesiredSequenceIsMonotonicAcrossReopen) {
  MakeThing("cam-1");
  EXPECT_EQ(*fleet_->NextDesiredSequence("cam-1"), 1);
  EXPECT_EQ(*fleet_->NextDesiredSequence("cam-1"), 2);
  fleet_.reset();
  auto f = OpenSqliteFleetStore(dir_ + "/fleet/fleet.db", {false, &clock_});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*(*f)->NextDesiredSequence("cam-1"), 3);
  EXPECT_EQ((*f)->NextDesiredSequence("nope").status().code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, HealthAndDesiredOutboxSurviveReopen) {
  MakeThing("cam-1");
  MakeThing("cam-2");
  EXPECT_FALSE(fleet_->GetHealth("cam-1")->has_value());
  ASSERT_TRUE(fleet_->RecordSeen("cam-1", 1796000001000, "").ok());
  ASSERT_TRUE(fleet_->RecordSeen("cam-1", 1796000002000, R"({"schema":"vqi-health/1"})").ok());
  ASSERT_TRUE(fleet_->RecordSeen("cam-1", 1796000003000, "").ok());  // keeps the heartbeat
  EXPECT_EQ(fleet_->RecordSeen("nope", 1, "").code(), StatusCode::kNotFound);
  ASSERT_TRUE(fleet_->PutDesired({"cam-1", 4, "dep-1", "{\"a\":1}", true, 5}).ok());
  ASSERT_TRUE(fleet_->PutDesired({"cam-2", 1, "dep-1", "{}", true, 5}).ok());
  EXPECT_EQ(fleet_->PutDesired({"nope", 1, "dep-1", "{}", true, 5}).code(), StatusCode::kNotFound);
  // A newer record replaces the older; marking the older one does not touch it.
  ASSERT_TRUE(fleet_->PutDesired({"cam-1", 5, "dep-2", "{\"a\":2}", true, 6}).ok());
  ASSERT_TRUE(fleet_->MarkDesiredPublished("cam-1", 4, "{\"a\":1}").ok());
  EXPECT_TRUE((*fleet_->GetDesired("cam-1"))->pending);
  ASSERT_TRUE(fleet_->MarkDesiredPublished("cam-2", 1, "{}").ok());
  fleet_.reset();
  auto f = OpenSqliteFleetStore(dir_ + "/fleet/fleet.db", {false, &clock_});
  ASSERT_TRUE(f.ok());
  auto h = (*f)->GetHealth("cam-1");
  ASSERT_TRUE(h.ok() && h->has_value());
  EXPECT_EQ((*h)->last_seen_ms, 1796000003000);
  EXPECT_EQ((*h)->heartbeat, R"({"schema":"vqi-health/1"})");
  EXPECT_EQ((*h)->heartbeat_at, "2026-11-30T00:53:22Z");
  auto pending = (*f)->PendingDesired();
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ(pending->front().thing, "cam-1");
  EXPECT_EQ(pending->front().sequence, 5);
  EXPECT_EQ(pending->front().deployment_id, "dep-2");
  // Revoked with a retained desired state: to be cleared; once cleared, no more.
  EXPECT_TRUE((*f)->RevokedThingsToClear()->empty());
  ASSERT_TRUE((*f)->RevokeThing("cam-2").ok());
  EXPECT_EQ(*(*f)->RevokedThingsToClear(), std::vector<std::string>{"cam-2"});
  ASSERT_TRUE((*f)->PutDesired({"cam-2", 0, "", "", true, 7}).ok());
  EXPECT_TRUE((*f)->RevokedThingsToClear()->empty());
}

TEST_F(StoreTest, ThingViewChecksTheStoredHeartbeat) {
  MakeThing("cam-1");
  auto never = ThingDetailJson(*fleet_, "cam-1");
  ASSERT_TRUE(never.ok());
  EXPECT_TRUE((*never)["health"]["last_seen"].is_null());
  EXPECT_TRUE((*never)["published"].is_null());
  HealthReport h;
  h.thing = "cam-1";
  h.uptime_seconds = 9;
  h.components["a"] = {"1.0.0", "RUNNING"};
  ASSERT_TRUE(fleet_->RecordSeen("cam-1", 1796000001000, HealthReportToJson(h)).ok());
  ASSERT_TRUE(fleet_->PutDesired({"cam-1", 2, "dep-1", "{}", false, 5}).ok());
  auto good = ThingDetailJson(*fleet_, "cam-1");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ((*good)["health"]["heartbeat"]["uptimeSeconds"], 9);
  EXPECT_EQ((*good)["published"]["acknowledged"], true);
  EXPECT_EQ((*good)["published"]["sequence"], 2);
  // A damaged stored heartbeat is shown as null with the reason, never half-typed.
  ASSERT_TRUE(fleet_->RecordSeen("cam-1", 1796000002000, R"({"schema":"vqi-health/1"})").ok());
  auto damaged = ThingDetailJson(*fleet_, "cam-1");
  ASSERT_TRUE(damaged.ok());
  EXPECT_TRUE((*damaged)["health"]["heartbeat"].is_null());
  EXPECT_NE((*damaged)["health"]["heartbeat_error"].get<std::string>().find("thing: missing"),
            std::string::npos);
  EXPECT_EQ(ThingDetailJson(*fleet_, "nope").status().code(), StatusCode::kNotFound);
}

TEST_F(StoreTest, DeploymentsSupersedeAndStatusHistory) {
  MakeThing("cam-1");
  Deployment d;
  d.target = {Target::Kind::kThing, "cam-1"};
  d.name = "first";
  d.document = "{}";
  d.resolved = {{"a.B", "1.0.0"}};
  auto first = fleet_->CreateDeployment(d);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->id, "dep-1");
  d.name = "second";
  auto second = fleet_->CreateDeployment(d);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(fleet_->GetDeployment("dep-1")->superseded_by, "dep-2");
  auto live = fleet_->LiveDeployment(d.target);
  ASSERT_TRUE(live.ok() && live->has_value());
  EXPECT_EQ((*live)->id, "dep-2");
  EXPECT_EQ((*live)->resolved.at("a.B"), "1.0.0");
  EXPECT_EQ(fleet_->GetDeployment("dep-9").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(fleet_->GetDeployment("x").status().code(), StatusCode::kNotFound);

  ASSERT_TRUE(fleet_->AddDevices("dep-2", {"cam-1"}).ok());
  auto r = fleet_->GetDeviceStatus("dep-2", "cam-1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, DeviceStatus::kQueued);
  r->status = DeviceStatus::kInProgress;
  r->sequence = 1;
  ASSERT_TRUE(fleet_->PutDeviceStatus(*r).ok());
  r->sequence = 2;  // same status: no new history row
  ASSERT_TRUE(fleet_->PutDeviceStatus(*r).ok());
  r->status = DeviceStatus::kSucceeded;
  r->kpi = KpiReport{"defect_rate", 0.1, 0.2, 5};
  ASSERT_TRUE(fleet_->PutDeviceStatus(*r).ok());
  auto h = fleet_->History("dep-2", "cam-1");
  ASSERT_TRUE(h.ok());
  ASSERT_EQ(h->size(), 3u);
  EXPECT_EQ((*h)[2].status, DeviceStatus::kSucceeded);
  EXPECT_EQ(fleet_->GetDeviceStatus("dep-2", "cam-1")->kpi->after, 0.2);

  ASSERT_TRUE(fleet_->CancelDeployment("dep-2").ok());
  EXPECT_EQ(fleet_->CancelDeployment("dep-2").code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(fleet_->LiveDeployment(d.target)->has_value());
  ASSERT_TRUE(fleet_->SetRolloutState("dep-2", "{\"phase\":\"RUNNING\"}").ok());
  EXPECT_EQ(fleet_->GetDeployment("dep-2")->rollout_state, "{\"phase\":\"RUNNING\"}");
}

TEST(TargetTest, Parse) {
  auto t = ParseTarget("group:line-1");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->kind, Target::Kind::kGroup);
  EXPECT_EQ(t->ToString(), "group:line-1");
  EXPECT_NE(ParseTarget("line-1").status().message().find("thing:NAME and group:NAME"),
            std::string::npos);
  EXPECT_NE(ParseTarget("thing:").status().message().find("target thing '': empty"),
            std::string::npos);
}

}  // namespace
}  // namespace vqi::fleet

namespace vqi::fleet {
namespace {

// The fleet's name rule is libs/transport's (the name is a certificate CN and a topic level).
TEST(NameRuleTest, SameAsTransport) {
  for (const std::string& name : std::vector<std::string>{
           "cam-1", "A", "a.b_c-d", "9", std::string(128, 'x'), std::string(129, 'x'), "", "-a",
           ".a", "_a", "a/b", "a+b", "a#", "a b", "a\xc3\xa9", "vqi-server", "a\n"}) {
    EXPECT_EQ(ValidateThingName(name).ok(), transport::topics::CheckThingName(name).ok()) << name;
  }
}

}  // namespace
}  // namespace vqi::fleet
