// Shadow models through the real device processes (docs/design/shadow.md): two versions of the
// model component from `vqi component from-model`, vqi.inspect from the shipped recipe, `vqi-agent
// run --bundle` with a real Mosquitto and `vqi server`. A desired state naming 1.0.1 as the
// shadow of the live 1.0.0 — with the inspector's `Shadow` configuration the server writes —
// makes the agent fetch 1.0.1 without running it and vqi-inspect run it beside the live model:
// each result carries `shadow`, and every ReportEvery images a vqi.inspect.shadow/1 message
// arrives on vqi/v1/results/<thing>/vqi.inspect/shadow through the agent's spool. The server
// side (ingest, rule, promotion) is fleet_shadow_test.
#include "agent_net_env.h"
#include "eval_report.h"

namespace vqi::agent_test {
namespace {

using fleet::DeviceStatus;

class AgentInspectShadowTest : public AgentNetEnv {
 protected:
  void Model(const std::string& in, int seed, int version) {
    const std::string dir = in + "/m" + std::to_string(version);
    Cmd c = Vqi("model export --random t --imgsz 96x64 --seed " + std::to_string(seed) + " --out " +
                dir + "/model.onnx");
    ASSERT_EQ(c.code, 0) << c.out;
    Json report = vqi::testing::RegisterableReport(dir + "/model.onnx");
    Write(dir + "/report.json", report.dump());
    for (const std::string& cmd :
         {"model register --group tags --model " + dir + "/model.onnx --report " + dir +
              "/report.json --by alice",
          "model approve --group tags --version " + std::to_string(version) + " --by bob",
          std::string("component from-model --group tags --key acme")}) {
      c = Vqi(cmd);
      ASSERT_EQ(c.code, 0) << cmd << "\n" << c.out;
    }
  }
  // vqi.model.tags@1.0.0 and @1.0.1 (random detectors, seeds 3 and 4), vqi.inspect@1.0.0.
  void Components() {
    const std::string in = h_.dir() + "/in";
    Model(in, 3, 1);
    Model(in, 4, 2);
    for (const std::string& cmd :
         {"component create --recipe " + std::string(VQI_SOURCE_DIR) +
              "/components/recipes/vqi-inspect.yaml --artifact " + VQI_INSPECT_BIN +
              " --var COMPONENT_VERSION=1.0.0 --var MODEL_GROUP=tags --key acme",
          "dataset synth --count 6 --seed 1 --out " + in + "/synth"}) {
      Cmd c = Vqi(cmd);
      ASSERT_EQ(c.code, 0) << cmd << "\n" << c.out;
    }
  }
};

TEST_F(AgentInspectShadowTest, CandidateRunsBesideTheLiveModelAndItsStatisticsArrive) {
  Components();
  StartFleet();
  ASSERT_TRUE(server_mqtt_->Subscribe(transport::topics::AllResults()).ok());
  StartAgent();
  fleet::DesiredState d =
      State("dep-1", 1, {{"vqi.inspect", "1.0.0"}, {"vqi.model.tags", "1.0.0"}});
  d.shadow = fleet::ShadowSpec{"vqi.model.tags", "1.0.1"};
  d.components["vqi.inspect"].configuration_update = fleet::ConfigurationUpdate{
      R"({"SettleSeconds": 0, "UncertainBand": [0, 0],
          "Shadow": {"ModelComponent": "vqi.model.tags", "ModelVersion": "1.0.1",
                     "ReportEvery": 3}})",
      {}};
  Desired(d);
  ASSERT_TRUE(received_.WaitReport(kThing, "dep-1", DeviceStatus::kSucceeded, 60))
      << Slurp(h_.dir() + "/agent.log") << h_.Log("vqi.inspect");
  ASSERT_TRUE(fs::exists(h_.root() + "/packages/artifacts/vqi.model.tags/1.0.1/model.onnx"));

  const std::string camera = h_.root() + "/work/vqi.inspect/camera";
  ASSERT_TRUE(WaitFor([&] { return fs::is_directory(camera); }, 10)) << h_.Log("vqi.inspect");
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(h_.dir() + "/in/synth/images"))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  ASSERT_EQ(names.size(), 6u);
  for (const std::string& n : names) {
    fs::copy_file(h_.dir() + "/in/synth/images/" + n, h_.dir() + "/" + n);
    fs::rename(h_.dir() + "/" + n, camera + "/" + n);
  }
  const std::string topic = transport::topics::ResultsTopic(kThing, "vqi.inspect");
  const std::string shadow_topic = transport::topics::ShadowTopic(kThing, "vqi.inspect");
  ASSERT_TRUE(WaitFor([&] { return received_.On(shadow_topic).size() >= 2; }, 60))
      << h_.Log("vqi.inspect") << Slurp(h_.dir() + "/agent.log");
  auto results = received_.On(topic);
  ASSERT_EQ(results.size(), 6u);
  for (const auto& m : results) {
    auto r = ParseJson(m.payload);
    ASSERT_TRUE(r.ok());
    ASSERT_TRUE(r->contains("shadow")) << m.payload;
    EXPECT_EQ((*r)["shadow"]["model"]["version"], "1.0.1");
    EXPECT_TRUE((*r)["shadow"].contains("agree")) << m.payload;
  }
  auto msgs = received_.On(shadow_topic);
  auto last = ParseJson(msgs[1].payload);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ((*last)["schema"], "vqi.inspect.shadow/1");
  EXPECT_EQ((*last)["thing"], kThing);
  EXPECT_EQ((*last)["candidate"]["component"], "vqi.model.tags");
  EXPECT_EQ((*last)["candidate"]["version"], "1.0.1");
  EXPECT_EQ((*last)["counts"]["images"], 6);
  EXPECT_TRUE(last->contains("vqiMessageId")) << "through the agent's spool";
  EXPECT_GT((*last)["sums"]["candidate_ms"].get<double>(), 0);
  std::printf("shadow message on the broker: %s\n", msgs[1].payload.c_str());
  EXPECT_EQ(h_.Stop(), 0);
}

}  // namespace
}  // namespace vqi::agent_test
