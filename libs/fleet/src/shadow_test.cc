// Shadow evaluation on the server: the promotion rule, the device message, the aggregate, the
// store, the document extension and the promotion (docs/design/shadow.md).
#include "vqi/fleet/shadow.h"

#include <gtest/gtest.h>

#include "test_fixture.h"
#include "vqi/fleet/deploy.h"
#include "vqi/fleet/desired_state.h"
#include "vqi/fleet/document.h"
#include "vqi/fleet/promote_rule.h"
#include "vqi/fleet/shadow_promote.h"
#include "vqi/fleet/shadow_store.h"

namespace vqi::fleet {
namespace {

// A device's message: `images` compared, `agree` of them with the same verdict, boxes matched
// `matched` of `slots`.
std::string Message(const std::string& thing, int64_t images, int64_t agree, int64_t matched,
                    int64_t slots, const std::string& version = "1.0.1",
                    const std::string& component = "vqi.inspect") {
  Json j{{"schema", "vqi.inspect.shadow/1"},
         {"thing", thing},
         {"component", component},
         {"live", {{"name", "tags"}, {"version", "1.0.0"}}},
         {"candidate", {{"component", "vqi.model.tags"}, {"name", "tags"}, {"version", version}}},
         {"counts",
          {{"images", images},
           {"verdict_agree", agree},
           {"live_fail", images / 2},
           {"candidate_fail", images / 2},
           {"candidate_errors", 0},
           {"boxes_live", slots},
           {"boxes_candidate", slots},
           {"boxes_matched", matched},
           {"box_slots", slots},
           {"pairs", matched}}},
         {"sums",
          {{"best_shift", 0.01 * static_cast<double>(images)},
           {"pair_shift", 0.0},
           {"live_ms", 10.0 * static_cast<double>(images)},
           {"candidate_ms", 12.0 * static_cast<double>(images)}}},
         {"latency_ms", {{"live_p95", 11.0}, {"candidate_p95", 13.0}}},
         {"at", "2026-12-06T10:00:00.000Z"},
         {"vqiMessageId", "abc-1"}};
  return j.dump();
}

ShadowStats Stats(const std::string& thing, int64_t images, int64_t agree, int64_t matched,
                  int64_t slots) {
  auto s = ParseShadowMessage(Message(thing, images, agree, matched, slots), thing, "vqi.inspect");
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : ShadowStats{};
}

TEST(PromoteRule, ParsesAndEvaluatesTheIssuesExample) {
  auto r =
      PromoteRule::Parse("images>=200 && verdict_agreement>=0.98 && box_match>=0.95 && devices>=2");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ShadowAggregate agree =
      AggregateShadow({Stats("a", 150, 149, 95, 96), Stats("b", 150, 148, 96, 97)});
  EXPECT_EQ(agree.devices, 2);
  EXPECT_EQ(agree.images, 300);
  EXPECT_NEAR(agree.VerdictAgreement(), 297.0 / 300, 1e-12);
  EXPECT_NEAR(agree.BoxMatch(), 191.0 / 193, 1e-12);
  EXPECT_TRUE(r->Holds(agree));
  // One device only, or too few images, or disagreement: no.
  EXPECT_FALSE(r->Holds(AggregateShadow({Stats("a", 300, 299, 95, 96)})));
  EXPECT_FALSE(r->Holds(AggregateShadow({Stats("a", 90, 90, 9, 9), Stats("b", 90, 90, 9, 9)})));
  EXPECT_FALSE(
      r->Holds(AggregateShadow({Stats("a", 150, 120, 95, 96), Stats("b", 150, 148, 96, 97)})));
  EXPECT_FALSE(
      r->Holds(AggregateShadow({Stats("a", 150, 150, 50, 96), Stats("b", 150, 150, 96, 97)})));
}

TEST(PromoteRule, OperatorsPrecedenceNotAndParentheses) {
  ShadowAggregate a = AggregateShadow({Stats("a", 100, 90, 10, 10)});  // agreement 0.9
  auto holds = [&](const std::string& text) {
    auto r = PromoteRule::Parse(text);
    EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
    return r.ok() && r->Holds(a);
  };
  EXPECT_TRUE(holds("images == 100"));
  EXPECT_TRUE(holds("images != 99"));
  EXPECT_TRUE(holds("verdict_agreement < 0.95 && verdict_agreement > 0.85"));
  EXPECT_TRUE(holds("images < 1 || devices >= 1"));
  EXPECT_FALSE(holds("images < 1 || devices >= 1 && images > 100"));  // && binds tighter
  EXPECT_TRUE(holds("(images < 1 || devices >= 1) && images <= 100"));
  EXPECT_TRUE(holds("!(images < 50)"));
  EXPECT_TRUE(holds("latency_ratio >= 1.19 && latency_ratio <= 1.21"));
  EXPECT_TRUE(holds("candidate_latency_ms>=12&&live_latency_ms<=10"));
  EXPECT_TRUE(holds("abs_score_shift <= 0.01 && score_shift >= -1e-3"));
  EXPECT_TRUE(holds("candidate_errors == 0"));
  // No data: never.
  auto r = PromoteRule::Parse("images >= 0");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->Holds(ShadowAggregate{}));
}

TEST(PromoteRule, BadRulesNameThePosition) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"", "position 1: expected a metric name, (, or !, found the end of the rule"},
      {"images >= 200 && agreement >= 0.9",
       "position 18: unknown name \"agreement\"; accepted: images,"},
      {"images => 200", "position 8: expected one of >= <= > < == != after images"},
      {"images >= abc", "position 11: expected a number, found \"abc\""},
      {"images >= 1 &&", "position 15: expected a metric name"},
      {"(images >= 1", "position 13: expected ), found the end of the rule"},
      {"images >= 1 devices >= 2", "position 13: expected && or || or the end of the rule"},
      {"images >= 1e999", "position 11: expected a number"},
  };
  for (const Case& c : cases) {
    auto r = PromoteRule::Parse(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.message), std::string::npos)
        << c.text << " -> " << r.status().message();
  }
  std::string deep(40, '(');
  EXPECT_NE(PromoteRule::Parse(deep + "images>1").status().message().find("nested deeper"),
            std::string::npos);
  std::string many = "images>1";
  for (int i = 0; i < 64; ++i) many += "&&images>1";
  EXPECT_NE(PromoteRule::Parse(many).status().message().find("more than 64"), std::string::npos);
  EXPECT_EQ(PromoteRule::Parse(std::string(2000, ' ')).status().code(),
            StatusCode::kResourceExhausted);
}

TEST(ShadowMessage, RefusesWhatIsNotConsistent) {
  EXPECT_TRUE(ParseShadowMessage(Message("cam-1", 10, 9, 3, 4), "cam-1", "vqi.inspect").ok());
  auto other = ParseShadowMessage(Message("cam-2", 10, 9, 3, 4), "cam-1", "vqi.inspect");
  EXPECT_NE(other.status().message().find("'cam-2' is not the topic's thing 'cam-1'"),
            std::string::npos);
  EXPECT_FALSE(ParseShadowMessage(Message("cam-1", 10, 9, 3, 4), "cam-1", "other").ok());
  auto agree = ParseShadowMessage(Message("cam-1", 10, 11, 3, 4), "cam-1", "vqi.inspect");
  EXPECT_NE(agree.status().message().find("counts.verdict_agree: 11 is more than counts.images"),
            std::string::npos)
      << agree.status().message();
  EXPECT_FALSE(ParseShadowMessage(Message("cam-1", 10, 9, 5, 4), "cam-1", "vqi.inspect").ok());
  EXPECT_FALSE(ParseShadowMessage(Message("cam-1", -1, 0, 0, 0), "cam-1", "vqi.inspect").ok());
  EXPECT_FALSE(ParseShadowMessage("not json", "cam-1", "vqi.inspect").ok());
  EXPECT_FALSE(ParseShadowMessage("[]", "cam-1", "vqi.inspect").ok());
  Json j = Json::parse(Message("cam-1", 10, 9, 3, 4));
  j["schema"] = "vqi.inspect.result/1";
  EXPECT_NE(ParseShadowMessage(j.dump(), "cam-1", "vqi.inspect").status().message().find("schema"),
            std::string::npos);
  j = Json::parse(Message("cam-1", 10, 9, 3, 4));
  j["counts"].erase("box_slots");
  EXPECT_NE(ParseShadowMessage(j.dump(), "cam-1", "vqi.inspect")
                .status()
                .message()
                .find("counts.box_slots: missing"),
            std::string::npos);
  EXPECT_EQ(ParseShadowMessage(std::string(20000, ' '), "cam-1", "vqi.inspect").status().code(),
            StatusCode::kResourceExhausted);
}

class ShadowStoreTest : public FleetFixture {};

TEST_F(ShadowStoreTest, KeepsTheLatestPerThingAndCandidate) {
  auto store = OpenSqliteShadowStore(ShadowDbPath(dir_));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE(IngestShadowMessage(**store, "a", "vqi.inspect", Message("a", 10, 9, 3, 4), 1).ok());
  ASSERT_TRUE(IngestShadowMessage(**store, "a", "vqi.inspect", Message("a", 20, 19, 3, 4), 2).ok());
  ASSERT_TRUE(IngestShadowMessage(**store, "b", "vqi.inspect", Message("b", 5, 5, 1, 1), 3).ok());
  ASSERT_TRUE(
      IngestShadowMessage(**store, "b", "vqi.inspect", Message("b", 7, 7, 1, 1, "1.0.2"), 4).ok());
  EXPECT_FALSE(IngestShadowMessage(**store, "b", "vqi.inspect", "garbage", 5).ok());
  auto rows = (*store)->List("vqi.model.tags", "1.0.1");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].stats.thing, "a");
  EXPECT_EQ((*rows)[0].stats.images, 20);
  EXPECT_EQ((*rows)[0].received_ms, 2);
  EXPECT_DOUBLE_EQ((*rows)[0].stats.sum_candidate_ms, 240.0);
  EXPECT_EQ((*rows)[1].stats.thing, "b");
  EXPECT_EQ((*rows)[1].stats.images, 5);
  auto all = (*store)->List("", "");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 3u);
  // Reopened (another process): the same rows.
  store->reset();
  auto again = OpenSqliteShadowStore(ShadowDbPath(dir_), false);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->List("", "")->size(), 3u);
}

class ShadowDeployTest : public FleetFixture {
 protected:
  void SetUp() override {
    FleetFixture::SetUp();
    PutComponent("vqi.model.tags", "1.0.0");
    PutComponent("vqi.model.tags", "1.0.1");
    PutComponent("vqi.inspect", "1.0.0", {{"vqi.model.tags", ">=1.0.0"}});
    MakeThing("a", "line");
    MakeThing("b", "line");
    auto s = OpenSqliteShadowStore(ShadowDbPath(dir_));
    ASSERT_TRUE(s.ok());
    shadow_ = std::move(*s);
  }
  std::string Doc(const std::string& shadow) {
    return R"({"components": {"vqi.model.tags": {"componentVersion": "1.0.0"},
      "vqi.inspect": {"componentVersion": "1.0.0",
                      "configurationUpdate": {"merge": "{\"Threads\":2,\"Shadow\":{\"ReportEvery\":5}}"}}})" +
           (shadow.empty() ? std::string() : R"(, "vqiShadow": )" + shadow) + "}";
  }
  std::unique_ptr<ShadowStore> shadow_;
};

TEST_F(ShadowDeployTest, DocumentIsCheckedAtCreation) {
  auto bad_rule = CreateDeployment(
      *fleet_, *components_, *ParseTarget("group:line"),
      Doc(R"({"component": "vqi.model.tags", "version": "1.0.1", "promoteWhen": "images >= x"})"));
  ASSERT_FALSE(bad_rule.ok());
  EXPECT_EQ(bad_rule.status().message(),
            "vqiShadow.promoteWhen: position 11: expected a number, found \"x\"");
  auto live = CreateDeployment(*fleet_, *components_, *ParseTarget("group:line"),
                               Doc(R"({"component": "vqi.model.tags", "version": "1.0.0"})"));
  EXPECT_NE(live.status().message().find("is the live version"), std::string::npos);
  auto missing = CreateDeployment(*fleet_, *components_, *ParseTarget("group:line"),
                                  Doc(R"({"component": "vqi.model.tags", "version": "9.0.0"})"));
  EXPECT_NE(missing.status().message().find("vqiShadow: candidate vqi.model.tags@9.0.0"),
            std::string::npos)
      << missing.status().ToString();
  auto no_inspector = CreateDeployment(
      *fleet_, *components_, *ParseTarget("group:line"),
      Doc(R"({"component": "vqi.model.tags", "version": "1.0.1", "inspector": "x.y"})"));
  EXPECT_NE(no_inspector.status().message().find("vqiShadow.inspector"), std::string::npos);
  auto unknown = CreateDeployment(*fleet_, *components_, *ParseTarget("group:line"),
                                  Doc(R"({"component": "vqi.model.tags", "version": "1.0.1",
                                          "promote": "images>1"})"));
  EXPECT_NE(unknown.status().message().find("vqiShadow.promote: unknown key"), std::string::npos);
  auto list = fleet_->ListDeployments();
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty()) << "nothing is stored on error";
}

TEST_F(ShadowDeployTest, DesiredStateNamesTheCandidateAndPromotionReplacesIt) {
  const std::string rule = "images >= 100 && verdict_agreement >= 0.98 && devices >= 2";
  auto created = CreateDeployment(*fleet_, *components_, *ParseTarget("group:line"),
                                  Doc(R"({"component": "vqi.model.tags", "version": "1.0.1",
                                          "promoteWhen": ")" +
                                      rule + R"("})"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const Deployment d = created->deployment;
  auto desired = ComputeDesiredState(*fleet_, *components_, "a");
  ASSERT_TRUE(desired.ok()) << desired.status().ToString();
  ASSERT_TRUE(desired->shadow.has_value());
  EXPECT_EQ(desired->shadow->component, "vqi.model.tags");
  EXPECT_EQ(desired->shadow->version, "1.0.1");
  EXPECT_EQ(desired->components.at("vqi.model.tags").version, "1.0.0");
  const auto& merge = desired->components.at("vqi.inspect").configuration_update->merge;
  ASSERT_TRUE(merge.has_value());
  EXPECT_EQ(Json::parse(*merge),
            Json::parse(R"({"Threads": 2, "Shadow": {"ModelComponent": "vqi.model.tags",
                                                      "ModelVersion": "1.0.1", "ReportEvery": 5}})"));
  // The wire document round-trips (the agent's parser accepts the new field).
  desired->sequence = 1;
  auto parsed = ParseDesiredState(DesiredStateToJson(*desired), "a");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, *desired);

  // Evidence from one device only: not promoted.
  ASSERT_TRUE(shadow_->Put(Stats("a", 100, 100, 10, 10), 1).ok());
  auto none = MaybePromote(*fleet_, *components_, *shadow_, d, "2026-12-06T10:00:00Z");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(*none, "");
  // A thing outside the deployment does not count.
  MakeThing("c");
  ASSERT_TRUE(shadow_->Put(Stats("c", 100, 100, 10, 10), 1).ok());
  EXPECT_EQ(*MaybePromote(*fleet_, *components_, *shadow_, d, "t"), "");
  // The second device agrees: promoted, once.
  ASSERT_TRUE(shadow_->Put(Stats("b", 100, 99, 10, 10), 2).ok());
  auto check = CheckPromotion(*fleet_, *shadow_, d);
  ASSERT_TRUE(check.ok() && check->has_value());
  EXPECT_TRUE((*check)->holds);
  EXPECT_EQ((*check)->evidence.images, 200);
  auto promoted = MaybePromote(*fleet_, *components_, *shadow_, d, "2026-12-06T10:00:00Z");
  ASSERT_TRUE(promoted.ok()) << promoted.status().ToString();
  ASSERT_NE(*promoted, "");
  auto p = fleet_->GetDeployment(*promoted);
  ASSERT_TRUE(p.ok());
  auto doc = ParseDeploymentDocument(p->document);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_FALSE(doc->shadow.has_value());
  EXPECT_EQ(doc->components.at("vqi.model.tags").version, "1.0.1");
  EXPECT_EQ(doc->components.at("vqi.inspect").configuration_update->reset,
            std::vector<std::string>{"/Shadow"});
  // The document's own Shadow keys are gone with the candidate; the rest of its merge stays.
  EXPECT_EQ(Json::parse(*doc->components.at("vqi.inspect").configuration_update->merge),
            Json::parse(R"({"Threads": 2})"));
  EXPECT_EQ(doc->promotion["from"], d.id);
  EXPECT_EQ(doc->promotion["rule"], rule);
  EXPECT_EQ(doc->promotion["evidence"]["images"], 200);
  EXPECT_EQ(doc->promotion["evidence"]["devices"], 2);
  EXPECT_DOUBLE_EQ(doc->promotion["evidence"]["verdict_agreement"].get<double>(), 0.995);
  auto after = ComputeDesiredState(*fleet_, *components_, "b");
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->shadow.has_value());
  EXPECT_EQ(after->components.at("vqi.model.tags").version, "1.0.1");
  // The shadow deployment is superseded: not live, so never promoted again.
  auto old = fleet_->GetDeployment(d.id);
  ASSERT_TRUE(old.ok());
  EXPECT_FALSE(old->live());
  EXPECT_EQ(old->superseded_by, *promoted);
}

}  // namespace
}  // namespace vqi::fleet
