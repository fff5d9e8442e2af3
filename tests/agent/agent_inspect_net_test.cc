// Issue 20's wiring through the real processes (docs/design/inspect.md "Under the agent"):
// a model component from `vqi component from-model`, the shipped recipe
// components/recipes/vqi-inspect.yaml packaged with the real vqi-inspect, `vqi-agent run
// --bundle` with a real Mosquitto and `vqi server`; images dropped into the component's camera
// folder give one result each on vqi/v1/results/<thing>/vqi.inspect (with vqiMessageId, in
// order) and, being uncertain, an upload each. The acceptance tests (outage, update, two
// agents) are tests/fleet_e2e*; this one proves the wiring in seconds.
#include "agent_net_env.h"
#include "eval_report.h"

namespace vqi::agent_test {
namespace {

using fleet::DeviceStatus;

class AgentInspectNetTest : public AgentNetEnv {
 protected:
  // vqi.model.tags@1.0.0 (a random-weight detector, registered and approved) and
  // vqi.inspect@1.0.0 from the shipped recipe.
  void Components() {
    const std::string in = h_.dir() + "/in";
    Cmd c = Vqi("model export --random t --imgsz 96x64 --seed 3 --out " + in + "/model.onnx");
    ASSERT_EQ(c.code, 0) << c.out;
    Json report = vqi::testing::RegisterableReport(in + "/model.onnx");
    Write(in + "/report.json", report.dump());
    for (const std::string& cmd :
         {"model register --group tags --model " + in + "/model.onnx --report " + in +
              "/report.json --by alice",
          std::string("model approve --group tags --version 1 --by bob"),
          std::string("component from-model --group tags --key acme"),
          "component create --recipe " + std::string(VQI_SOURCE_DIR) +
              "/components/recipes/vqi-inspect.yaml --artifact " + VQI_INSPECT_BIN +
              " --var COMPONENT_VERSION=1.0.0 --var MODEL_GROUP=tags --key acme",
          "dataset synth --count 3 --seed 1 --out " + in + "/synth"}) {
      c = Vqi(cmd);
      ASSERT_EQ(c.code, 0) << cmd << "\n" << c.out;
    }
  }
};

TEST_F(AgentInspectNetTest, ImagesInTheCameraFolderGiveResultsOnTheBroker) {
  Components();
  StartFleet();
  ASSERT_TRUE(server_mqtt_->Subscribe(transport::topics::AllResults()).ok());
  StartAgent();
  fleet::DesiredState d =
      State("dep-1", 1, {{"vqi.inspect", "1.0.0"}, {"vqi.model.tags", "1.0.0"}});
  d.components["vqi.inspect"].configuration_update =
      fleet::ConfigurationUpdate{R"({"UncertainBand": [0, 1]})", {}};  // every image uploaded
  Desired(d);
  ASSERT_TRUE(received_.WaitReport(kThing, "dep-1", DeviceStatus::kSucceeded, 60))
      << Slurp(h_.dir() + "/agent.log") << h_.Log("vqi.inspect");
  // RUNNING in `vqi-agent status` (the engine's state; vqi-inspect reported RUNNING too).
  EXPECT_EQ(h_.Status()["components"]["vqi.inspect"].value("state", ""), "RUNNING")
      << h_.Status().dump();

  // The recipe's default ImageDirectory is "camera" in the component's work folder; files are
  // renamed in as a camera writer would.
  const std::string camera = h_.root() + "/work/vqi.inspect/camera";
  ASSERT_TRUE(WaitFor([&] { return fs::is_directory(camera); }, 10)) << h_.Log("vqi.inspect");
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(h_.dir() + "/in/synth/images"))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  ASSERT_EQ(names.size(), 3u);
  const std::string topic = transport::topics::ResultsTopic(kThing, "vqi.inspect");
  for (size_t i = 0; i < names.size(); ++i) {
    fs::copy_file(h_.dir() + "/in/synth/images/" + names[i], h_.dir() + "/" + names[i]);
    fs::rename(h_.dir() + "/" + names[i], camera + "/" + names[i]);
    ASSERT_TRUE(WaitFor([&] { return received_.On(topic).size() > i; }, 20))
        << names[i] << "\n"
        << h_.Log("vqi.inspect") << Slurp(h_.dir() + "/agent.log");
  }
  auto got = received_.On(topic);
  ASSERT_EQ(got.size(), 3u);
  std::set<std::string> ids;
  for (size_t i = 0; i < got.size(); ++i) {
    auto r = ParseJson(got[i].payload);
    ASSERT_TRUE(r.ok()) << got[i].payload;
    EXPECT_EQ((*r)["schema"], "vqi.inspect.result/1");
    EXPECT_EQ((*r)["thing"], kThing);
    EXPECT_EQ((*r)["component"], "vqi.inspect");
    EXPECT_EQ((*r)["image"]["name"], names[i]);
    EXPECT_NE((*r)["verdict"], "error") << got[i].payload;
    EXPECT_EQ((*r)["model"]["name"], "tags");
    EXPECT_EQ((*r)["model"]["version"], "1");
    ASSERT_TRUE(r->contains("vqiMessageId")) << got[i].payload;
    ids.insert((*r)["vqiMessageId"].get<std::string>());
  }
  EXPECT_EQ(ids.size(), 3u);
  ASSERT_TRUE(WaitFor([&] { return received_.On(topic + "/upload").size() >= 3; }, 20));
  auto uploads = received_.On(topic + "/upload");
  for (size_t i = 0; i < uploads.size(); ++i) {
    auto u = ParseJson(uploads[i].payload);
    ASSERT_TRUE(u.ok());
    EXPECT_EQ((*u)["name"], names[i]);
    EXPECT_EQ((*u)["metadata"]["modelVersion"], "1");
    EXPECT_EQ((*u)["metadata"]["resultId"], ParseJson(got[i].payload).value()["id"]);
  }
  EXPECT_EQ(h_.Stop(), 0);
  // vqi-inspect stopped cleanly with the agent (SIGTERM: finish the image, commit, exit 0).
  const std::string log = h_.Log("vqi.inspect");
  EXPECT_NE(log.find("3 results (0 errors)"), std::string::npos) << log;
  EXPECT_NE(log.find("3 published to the agent, 3 uploaded"), std::string::npos) << log;
  // The summary (ms per result to publish into the spool and commit), for the record.
  for (size_t at = log.find("vqi-inspect: 3 results"); at != std::string::npos;
       at = std::string::npos)
    std::printf("%s\n", log.substr(at, log.find('\n', at) - at).c_str());
}

// A deployment that takes the grant away (configuration merge `accessControl: null`): the first
// image is refused by the agent, vqi-inspect exits 1 naming the missing grant (the engine
// restarts it); nothing is published and the image stays unjournaled.
TEST_F(AgentInspectNetTest, WithoutTheGrantVqiInspectFailsNamingItAndPublishesNothing) {
  Components();
  StartFleet();
  ASSERT_TRUE(server_mqtt_->Subscribe(transport::topics::AllResults()).ok());
  StartAgent();
  fleet::DesiredState d =
      State("dep-1", 1, {{"vqi.inspect", "1.0.0"}, {"vqi.model.tags", "1.0.0"}});
  d.components["vqi.inspect"].configuration_update =
      fleet::ConfigurationUpdate{R"({"accessControl": null, "SettleSeconds": 0})", {}};
  Desired(d);
  ASSERT_TRUE(received_.WaitReport(kThing, "dep-1", DeviceStatus::kSucceeded, 60))
      << Slurp(h_.dir() + "/agent.log") << h_.Log("vqi.inspect");
  const std::string camera = h_.root() + "/work/vqi.inspect/camera";
  ASSERT_TRUE(WaitFor([&] { return fs::is_directory(camera); }, 10)) << h_.Log("vqi.inspect");
  std::string name;
  for (const auto& e : fs::directory_iterator(h_.dir() + "/in/synth/images"))
    name = e.path().filename().string();
  fs::copy_file(h_.dir() + "/in/synth/images/" + name, h_.dir() + "/" + name);
  fs::rename(h_.dir() + "/" + name, camera + "/" + name);
  // The engine saw it exit (it restarts it, and after three errors gives up: BROKEN).
  ASSERT_TRUE(WaitFor(
      [&] {
        return h_.Status()["components"]["vqi.inspect"]
                   .value("reason", "")
                   .find("vqi.inspect 1.0.0: run exited with code 1") != std::string::npos;
      },
      30))
      << h_.Status().dump() << h_.Log("vqi.inspect");
  const std::string log = h_.Log("vqi.inspect");
  EXPECT_NE(log.find("vqi-inspect: PermissionDenied: publishing a result on "
                     "vqi/v1/results/cam-1/vqi.inspect refused by the agent"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("must grant aws.greengrass.ipc.mqttproxy operation "
                     "aws.greengrass#PublishToIoTCore on \"vqi/v1/results/cam-1/vqi.inspect\""),
            std::string::npos)
      << log;
  EXPECT_TRUE(received_.On(transport::topics::ResultsTopic(kThing, "vqi.inspect")).empty());
  EXPECT_EQ(Slurp(h_.root() + "/work/vqi.inspect/processed.journal").find(name), std::string::npos);
  EXPECT_EQ(h_.Stop(), 0);
}

}  // namespace
}  // namespace vqi::agent_test
