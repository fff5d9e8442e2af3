// Acceptance 5 (shadow half, issue 20): a deployment names a candidate model with a
// `promoteWhen` rule; 24 simulated devices (real Mosquitto, device certificates) get the
// candidate in their desired state and publish vqi.inspect.shadow/1 statistics on their shadow
// topic; the server's results ingest stores them (the shadow handler), the fleet controller
// evaluates the rule and promotes the candidate fleet-wide once — or, when the devices report
// disagreement, never.
#include "controller_test_fixture.h"
#include "vqi/fleet/document.h"
#include "vqi/fleet/shadow_store.h"
#include "vqi/results/mqtt_ingest.h"
#include "vqi/results/shadow_handler.h"
#include "vqi/transport/topics.h"

namespace vqi::fleet::controller_testing {
namespace {

constexpr const char* kInspector = "vqi.inspect";
constexpr const char* kRule =
    "images>=200 && verdict_agreement>=0.98 && box_match>=0.95 && devices>=2";

class ShadowControllerTest : public ControllerTest {
 protected:
  void SetUp() override {
    ControllerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    component::Recipe r;
    r.name = kInspector;
    r.version = "1.0.0";
    r.publisher = "Acme";
    r.dependencies[kModel] = {">=1.0.0", component::DependencyType::kHard};
    component::Manifest m;
    m.platform = {{"os", "linux"}};
    r.manifests.push_back(m);
    component::StoredComponent c;
    c.name = kInspector;
    c.version = "1.0.0";
    c.publisher = "Acme";
    c.key_id = "k";
    c.recipe_json = component::RecipeToJson(r).dump();
    c.recipe_text = c.recipe_json;
    c.manifest = "manifest inspect";
    c.signature = std::string(64, 's');
    ASSERT_TRUE(components_->Put(c).ok());
  }
  void TearDown() override {
    if (ingest_) ingest_->Stop();
    ingest_.reset();
    ControllerTest::TearDown();
  }

  // The server's results subscriber with the shadow handler, as `vqi server --mqtt` runs it.
  void StartIngest() {
    results::MqttIngestOptions o;
    o.home = home_;
    o.mqtt_host = broker_->host();
    o.mqtt_port = broker_->port();
    auto handler = results::MakeShadowHandler(home_);
    ASSERT_TRUE(handler.ok()) << handler.status().ToString();
    o.ingest.sub_handlers["shadow"] = *handler;
    auto in = results::MqttResultsIngest::Create(o);
    ASSERT_TRUE(in.ok()) << in.status().ToString();
    ingest_ = std::move(*in);
    ASSERT_TRUE(ingest_->Start().ok());
    ASSERT_TRUE(ingest_->WaitReady(10000).ok());
  }

  std::string DeployShadow() {
    const std::string doc = std::string(R"({"components": {")") + kModel +
                            R"(": {"componentVersion": "1.0.0"}, ")" + kInspector +
                            R"(": {"componentVersion": "1.0.0"}},
        "vqiShadow": {"component": ")" +
                            kModel + R"(", "version": "2.0.0",
                      "promoteWhen": ")" +
                            kRule + R"("}})";
    auto out = CreateDeployment(*fleet_, *components_, *ParseTarget("group:line"), doc);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? out->deployment.id : "";
  }

  // Every device got the shadow deployment with the candidate named.
  void WaitCandidateEverywhere(const std::string& id) {
    for (auto& d : devices_) {
      ASSERT_TRUE(d->WaitUntil(
          [&](const std::vector<testing::SimReceived>& rs) {
            for (const auto& r : rs)
              if (!r.cleared && r.state.deployment_id == id && r.state.shadow &&
                  r.state.shadow->version == "2.0.0")
                return true;
            return false;
          },
          10000))
          << d->thing();
      const DesiredState state = d->Received().back().state;
      ASSERT_TRUE(state.components.at(kInspector).configuration_update.has_value());
      EXPECT_EQ(Json::parse(*state.components.at(kInspector).configuration_update->merge),
                Json::parse(R"({"Shadow": {"ModelComponent": "com.acme.Model",
                                           "ModelVersion": "2.0.0"}})"));
      EXPECT_EQ(state.components.at(kModel).version, "1.0.0");
    }
  }

  // What vqi-inspect publishes: `images` compared, `agree` with the same verdict, every box
  // of both models matched when `boxes_agree`.
  void Report(testing::SimDevice& d, int64_t images, int64_t agree, bool boxes_agree) {
    const int64_t slots = images / 2;
    Json j{{"schema", "vqi.inspect.shadow/1"},
           {"thing", d.thing()},
           {"component", kInspector},
           {"live", {{"name", "tags"}, {"version", "1.0.0"}}},
           {"candidate", {{"component", kModel}, {"name", "tags"}, {"version", "2.0.0"}}},
           {"counts",
            {{"images", images},
             {"verdict_agree", agree},
             {"live_fail", slots},
             {"candidate_fail", slots},
             {"candidate_errors", 0},
             {"boxes_live", slots},
             {"boxes_candidate", slots},
             {"boxes_matched", boxes_agree ? slots : slots / 2},
             {"box_slots", slots},
             {"pairs", boxes_agree ? slots : slots / 2}}},
           {"sums",
            {{"best_shift", 0.0},
             {"pair_shift", 0.0},
             {"live_ms", 14.5 * static_cast<double>(images)},
             {"candidate_ms", 15.0 * static_cast<double>(images)}}},
           {"at", "2026-12-06T14:00:00.000Z"}};
    ASSERT_TRUE(d.Publish(transport::topics::ShadowTopic(d.thing(), kInspector), j.dump()).ok());
  }

  // Waits until the shadow store holds `n` rows for the candidate.
  void WaitStored(size_t n) {
    auto store = OpenSqliteShadowStore(ShadowDbPath(home_), false);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    const auto deadline = Steady::now() + std::chrono::seconds(10);
    size_t have = 0;
    while (Steady::now() < deadline) {
      auto rows = (*store)->List(kModel, "2.0.0");
      have = rows.ok() ? rows->size() : 0;
      if (have >= n) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "stored " << have << " of " << n
           << "; ingest: " << ingest_->Stats().ingest.last_error;
  }

  // Deployments that promoted `from`.
  std::vector<Deployment> Promotions(const std::string& from) {
    std::vector<Deployment> out;
    auto all = fleet_->ListDeployments();
    EXPECT_TRUE(all.ok());
    for (const Deployment& d : *all) {
      auto doc = ParseDeploymentDocument(d.document, d.id);
      if (doc.ok() && doc->promotion.is_object() && doc->promotion["from"] == from)
        out.push_back(d);
    }
    return out;
  }

  std::unique_ptr<results::MqttResultsIngest> ingest_;
};

TEST_F(ShadowControllerTest, ACandidateThatAgreesIsPromotedFleetWideOnce) {
  StartController(60000);
  StartDevices([](const DesiredState&) { return SimBehavior{}; });
  StartIngest();
  const std::string id = DeployShadow();
  WaitCandidateEverywhere(id);
  // Three devices with 60 agreeing images each: 180 < 200, not yet.
  for (int i = 0; i < 3; ++i) Report(*devices_[i], 60, 60, true);
  WaitStored(3);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // >= 10 controller polls
  EXPECT_TRUE(Promotions(id).empty()) << "180 images must not satisfy images>=200";
  EXPECT_EQ(controller_->Stats().promotions, 0u);
  // A fourth device (one disagreeing verdict): 240 images, agreement 239/240 = 0.996.
  const auto t0 = Steady::now();
  Report(*devices_[3], 60, 59, true);
  std::vector<Deployment> promoted;
  while (Steady::now() - t0 < std::chrono::seconds(10)) {
    promoted = Promotions(id);
    if (!promoted.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(promoted.size(), 1u) << controller_->Stats().last_error;
  std::printf("shadow report -> promoting deployment stored: %.0f ms\n",
              std::chrono::duration<double, std::milli>(Steady::now() - t0).count());
  const Deployment& p = promoted[0];
  EXPECT_EQ(p.target.ToString(), "group:line");
  EXPECT_EQ(p.resolved.at(kModel), "2.0.0");
  auto doc = ParseDeploymentDocument(p.document, p.id);
  ASSERT_TRUE(doc.ok());
  EXPECT_FALSE(doc->shadow.has_value());
  EXPECT_EQ(doc->promotion["rule"], kRule);
  EXPECT_EQ(doc->promotion["evidence"]["images"], 240);
  EXPECT_EQ(doc->promotion["evidence"]["devices"], 4);
  EXPECT_NEAR(doc->promotion["evidence"]["verdict_agreement"].get<double>(), 239.0 / 240, 1e-5);
  EXPECT_DOUBLE_EQ(doc->promotion["evidence"]["box_match"].get<double>(), 1.0);
  auto old = fleet_->GetDeployment(id);
  ASSERT_TRUE(old.ok());
  EXPECT_EQ(old->superseded_by, p.id);
  // Fleet-wide: every device now runs the candidate as its live model, without a shadow.
  for (auto& d : devices_) {
    EXPECT_TRUE(WaitRunning(*d, "2.0.0")) << d->thing();
    const DesiredState last = d->Received().back().state;
    EXPECT_EQ(last.deployment_id, p.id);
    EXPECT_FALSE(last.shadow.has_value());
    ASSERT_TRUE(last.components.at(kInspector).configuration_update.has_value());
    EXPECT_EQ(last.components.at(kInspector).configuration_update->reset,
              std::vector<std::string>{"/Shadow"});
  }
  // Once: later reports (the devices still count) promote nothing more.
  for (int i = 4; i < 8; ++i) Report(*devices_[i], 60, 60, true);
  WaitStored(8);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(Promotions(id).size(), 1u);
  EXPECT_EQ(controller_->Stats().promotions, 1u);
}

TEST_F(ShadowControllerTest, ACandidateThatDisagreesIsNotPromoted) {
  StartController(60000);
  StartDevices([](const DesiredState&) { return SimBehavior{}; });
  StartIngest();
  const std::string id = DeployShadow();
  WaitCandidateEverywhere(id);
  // Every device: 60 images, verdicts agree on 54 (0.90 < 0.98), half the boxes matched.
  for (auto& d : devices_) Report(*d, 60, 54, false);
  WaitStored(devices_.size());
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // >= 20 controller polls
  EXPECT_TRUE(Promotions(id).empty());
  EXPECT_EQ(controller_->Stats().promotions, 0u);
  auto d = fleet_->GetDeployment(id);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->live()) << "superseded by " << d->superseded_by;
  for (auto& dev : devices_) {
    EXPECT_EQ(dev->Running()[kModel], "1.0.0") << dev->thing();
    EXPECT_EQ(dev->Received().size(), 1u) << dev->thing();
  }
  // Garbage on the shadow topic is refused by the ingest, the store is unchanged.
  ASSERT_TRUE(devices_[0]
                  ->Publish(transport::topics::ShadowTopic(devices_[0]->thing(), kInspector),
                            R"({"schema": "vqi.inspect.shadow/1", "thing": "cam-00"})")
                  .ok());
  const auto deadline = Steady::now() + std::chrono::seconds(5);
  while (Steady::now() < deadline && ingest_->Stats().ingest.sub["shadow"].refused == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(ingest_->Stats().ingest.sub["shadow"].refused, 1u);
}

}  // namespace
}  // namespace vqi::fleet::controller_testing
