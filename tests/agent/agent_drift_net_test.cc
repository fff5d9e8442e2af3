// Acceptance 5 (drift half) through the whole device path (docs/design/inspect.md "Drift
// monitor"): the model component from `vqi component from-model` carries the training split's
// stats.json; deployed with the shipped vqi-inspect recipe under `vqi-agent run --bundle` (real
// Mosquitto, the real `vqi server` serving the components), vqi-inspect turns drift on from the
// model's folder by itself. Tags like the training ones keep the alert down and publish no
// alert; darkened tags raise it: one vqi.inspect.drift/1 message on
// vqi/v1/results/<thing>/vqi.inspect/drift (through the agent's spool, granted by the recipe's
// accessControl) and `drift.alert` in the results.
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "agent_net_env.h"
#include "eval_report.h"

namespace vqi::agent_test {
namespace {

using fleet::DeviceStatus;

class AgentDriftNetTest : public AgentNetEnv {
 protected:
  // A dataset and its split in the home, a random-weight model registered with that split as
  // its lineage, approved and packaged (with stats.json); vqi.inspect@1.0.0 from the recipe.
  void Components() {
    const std::string in = h_.dir() + "/in";
    ASSERT_EQ(Vqi("dataset synth --count 100 --seed 2").code, 0);
    Cmd c = Vqi("--json dataset split");
    ASSERT_EQ(c.code, 0) << c.out;
    auto split = ParseJson(c.out);
    ASSERT_TRUE(split.ok()) << c.out;
    c = Vqi("model export --random t --imgsz 96x64 --seed 3 --out " + in + "/model.onnx");
    ASSERT_EQ(c.code, 0) << c.out;
    Json report = vqi::testing::RegisterableReport(in + "/model.onnx", "default", "default",
                                                   std::string((*split)["digest"]));
    Write(in + "/report.json", report.dump());
    for (const std::string& cmd :
         {"model register --group tags --model " + in + "/model.onnx --report " + in +
              "/report.json --by alice",
          std::string("model approve --group tags --version 1 --by bob"),
          std::string("component from-model --group tags --key acme"),
          "component create --recipe " + std::string(VQI_SOURCE_DIR) +
              "/components/recipes/vqi-inspect.yaml --artifact " + VQI_INSPECT_BIN +
              " --var COMPONENT_VERSION=1.0.0 --var MODEL_GROUP=tags --key acme",
          "dataset synth --count 12 --seed 9 --out " + in + "/synth"}) {
      c = Vqi(cmd);
      ASSERT_EQ(c.code, 0) << cmd << "\n" << c.out;
    }
    c = Vqi("component show vqi.model.tags --json");
    ASSERT_EQ(c.code, 0) << c.out;
    ASSERT_NE(c.out.find("\"stats.json\""), std::string::npos) << c.out;
  }

  // Renames `count` images of in/synth into the camera folder (darkened x`gain` when < 1),
  // waiting for each image's result; returns the results.
  std::vector<Json> Feed(const std::string& camera, const std::string& prefix, double gain) {
    std::vector<Json> out;
    const std::string topic = transport::topics::ResultsTopic(kThing, "vqi.inspect");
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(h_.dir() + "/in/synth/images"))
      names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    for (const std::string& n : names) {
      cv::Mat m = cv::imread(h_.dir() + "/in/synth/images/" + n);
      EXPECT_FALSE(m.empty()) << n;
      m.convertTo(m, -1, gain, 0);
      const std::string tmp = h_.dir() + "/" + prefix + n;
      cv::imwrite(tmp, m);
      const size_t before = received_.On(topic).size();
      fs::rename(tmp, camera + "/" + prefix + n);
      EXPECT_TRUE(WaitFor([&] { return received_.On(topic).size() > before; }, 20))
          << n << "\n"
          << h_.Log("vqi.inspect");
      auto got = received_.On(topic);
      if (got.size() > before) out.push_back(ParseJson(got.back().payload).value());
    }
    return out;
  }
};

TEST_F(AgentDriftNetTest, DarkenedImagesRaiseTheAlertThroughTheAgent) {
  Components();
  StartFleet();
  ASSERT_TRUE(server_mqtt_->Subscribe(transport::topics::AllResults()).ok());
  StartAgent();
  fleet::DesiredState d =
      State("dep-1", 1, {{"vqi.inspect", "1.0.0"}, {"vqi.model.tags", "1.0.0"}});
  // Only the window is set (small, for a test in seconds): no StatsFile, the model's is used.
  d.components["vqi.inspect"].configuration_update = fleet::ConfigurationUpdate{
      R"({"Drift": {"Window": 12, "MinWindow": 10}, "UncertainBand": [1, 1]})", {}};
  Desired(d);
  ASSERT_TRUE(received_.WaitReport(kThing, "dep-1", DeviceStatus::kSucceeded, 60))
      << Slurp(h_.dir() + "/agent.log") << h_.Log("vqi.inspect");
  const std::string camera = h_.root() + "/work/vqi.inspect/camera";
  ASSERT_TRUE(WaitFor([&] { return fs::is_directory(camera); }, 10)) << h_.Log("vqi.inspect");
  const std::string drift_topic = transport::topics::DriftTopic(kThing, "vqi.inspect");

  const std::vector<Json> same = Feed(camera, "a-", 1.0);
  ASSERT_EQ(same.size(), 12u);
  ASSERT_TRUE(same.back().contains("drift")) << same.back().dump() << h_.Log("vqi.inspect");
  EXPECT_FALSE(same.back()["drift"]["alert"].get<bool>()) << same.back()["drift"].dump();
  EXPECT_TRUE(received_.On(drift_topic).empty());

  const std::vector<Json> dark = Feed(camera, "b-", 0.5);
  ASSERT_EQ(dark.size(), 12u);
  EXPECT_TRUE(dark.back()["drift"]["alert"].get<bool>()) << dark.back()["drift"].dump();
  ASSERT_TRUE(WaitFor([&] { return !received_.On(drift_topic).empty(); }, 20))
      << h_.Log("vqi.inspect");
  auto alerts = received_.On(drift_topic);
  ASSERT_EQ(alerts.size(), 1u);
  auto a = ParseJson(alerts[0].payload);
  ASSERT_TRUE(a.ok()) << alerts[0].payload;
  EXPECT_EQ((*a)["schema"], "vqi.inspect.drift/1");
  EXPECT_EQ((*a)["state"], "raised");
  EXPECT_EQ((*a)["thing"], kThing);
  EXPECT_EQ((*a)["model"]["version"], "1");
  std::printf("through the agent: similar tags %s; darkened %s\nalert %s\n",
              same.back()["drift"].dump().c_str(), dark.back()["drift"].dump().c_str(),
              alerts[0].payload.c_str());
  EXPECT_EQ(h_.Stop(), 0);
}

}  // namespace
}  // namespace vqi::agent_test
