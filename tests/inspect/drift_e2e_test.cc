// Acceptance 5 (drift half), end to end with the real processes of a fleet
// (tests/fleet_e2e_harness.h): `vqi broker run`, `vqi server --mqtt --tls-auto`, a thing and its
// `vqi-agent run --bundle`. The model component made by `vqi component from-model` carries the
// training split's stats.json; `vqi deployment create` deploys it with the shipped vqi-inspect
// recipe; tags like the training ones keep the device's drift score under the alert threshold,
// the same tags darkened raise the alert, and the server shows it: `vqi results stats` (the
// thing's last drift score, feature, alert state and when it was raised).
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "eval_report.h"
#include "fleet_e2e_harness.h"

namespace vqi::e2e {
namespace {

class DriftE2e : public FleetE2e {
 protected:
  // The training data (a split in the home), the model registered with it as lineage,
  // approved, packaged with its statistics; vqi.inspect@1.0.0 from the shipped recipe.
  void Components() {
    const std::string in = dir_ + "/in";
    ASSERT_EQ(Vqi("dataset synth --count 100 --seed 2").code, 0);
    const Json split = JsonOf(Vqi("--json dataset split"));
    CmdResult c = Vqi("model export --random t --imgsz 96x64 --seed 3 --out " + in + "/model.onnx");
    ASSERT_EQ(c.code, 0) << c.out;
    const Json report = vqi::testing::RegisterableReport(in + "/model.onnx", "default", "default",
                                                         split.value("digest", ""));
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
  }

  // Dataset "dark" (synthetic tags darkened x0.5), its split, model version 2 trained "on it"
  // (the same weights; the lineage is what matters), approved, packaged as the next version.
  void DarkModel() {
    const std::string in = dir_ + "/in";
    CmdResult c = Vqi("dataset synth --count 100 --seed 2 --out " + in + "/dark");
    ASSERT_EQ(c.code, 0) << c.out;
    for (const auto& e : fs::directory_iterator(in + "/dark/images")) {
      cv::Mat m = cv::imread(e.path().string());
      ASSERT_FALSE(m.empty()) << e.path();
      m.convertTo(m, -1, 0.5, 0);
      cv::imwrite(e.path().string(), m);
    }
    c = Vqi("dataset import " + in + "/dark --dataset dark");
    ASSERT_EQ(c.code, 0) << c.out;
    const Json split = JsonOf(Vqi("--json dataset split --dataset dark"));
    Json report = ParseJson(ReadFile(in + "/report.json").value()).value();
    report["source"]["dataset"] = "dark";
    report["source"]["split_digest"] = split.value("digest", "");
    Write(in + "/report2.json", report.dump());
    for (const std::string& cmd : {"model register --group tags --model " + in +
                                       "/model.onnx --report " + in + "/report2.json --by alice",
                                   std::string("model approve --group tags --version 2 --by bob"),
                                   std::string("component from-model --group tags --key acme")}) {
      c = Vqi(cmd);
      ASSERT_EQ(c.code, 0) << cmd << "\n" << c.out;
    }
    ASSERT_NE(c.out.find("vqi.model.tags@1.0.1"), std::string::npos) << c.out;
  }

  Json Stats() {
    const CmdResult c = Vqi("results stats --json --thing cam-1");
    auto j = ParseJson(c.out, "stats");
    return j.ok() && j->is_array() && !j->empty() ? (*j)[0] : Json();
  }

  // The 12 device tags (darkened x`gain` when < 1) renamed into the camera folder; waits until
  // the server has `expect_images` results of the thing.
  void Feed(const std::string& camera, const std::string& prefix, double gain, int expect_images) {
    for (const auto& e : fs::directory_iterator(dir_ + "/in/synth/images")) {
      cv::Mat m = cv::imread(e.path().string());
      ASSERT_FALSE(m.empty()) << e.path();
      m.convertTo(m, -1, gain, 0);
      const std::string name = prefix + e.path().filename().string();
      cv::imwrite(dir_ + "/" + name, m);
      fs::rename(dir_ + "/" + name, camera + "/" + name);
    }
    ASSERT_TRUE(WaitFor([&] { return Stats().value("images", 0) >= expect_images; }, 60))
        << Stats().dump() << "\n"
        << Shell("tail -20 " + agents_[0].root + "/logs/vqi.inspect.log").out;
  }
};

TEST_F(DriftE2e, DarkenedImagesRaiseTheAlertOnTheServerTrainingLikeOnesDoNot) {
  ASSERT_NO_FATAL_FAILURE(Components());
  ASSERT_NO_FATAL_FAILURE(StartFleet(1));
  // The deployment sets only the window (small, for a test in seconds): no statistics file, the
  // model component's stats.json is used.
  const std::string id = Deploy("drift", R"({"deploymentName": "drift", "components": {
      "vqi.model.tags": {"componentVersion": "1.0.0"},
      "vqi.inspect": {"componentVersion": "1.0.0", "configurationUpdate": {"merge":
        "{\"Drift\": {\"Window\": 12, \"MinWindow\": 10}, \"UncertainBand\": [1, 1]}"}}},
    "deploymentPolicies": {"failureHandlingPolicy": "ROLLBACK"}})");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitDeployment(id, "SUCCEEDED", 60));
  const std::string camera = agents_[0].root + "/work/vqi.inspect/camera";
  ASSERT_TRUE(WaitFor([&] { return fs::is_directory(camera); }, 20));

  ASSERT_NO_FATAL_FAILURE(Feed(camera, "a-", 1.0, 12));
  Json s = Stats();
  ASSERT_TRUE(s["drift"].is_object()) << s.dump();
  EXPECT_FALSE(s["drift"]["alert"].get<bool>()) << s.dump();
  EXPECT_EQ(s["drift"]["alertsRaised"], 0);
  const double similar = s["drift"]["score"].get<double>();

  ASSERT_NO_FATAL_FAILURE(Feed(camera, "b-", 0.5, 24));
  ASSERT_TRUE(WaitFor([&] { return Stats()["drift"].value("alertsRaised", 0) == 1; }, 30))
      << Stats().dump();
  s = Stats();
  EXPECT_TRUE(s["drift"]["alert"].get<bool>()) << s.dump();
  EXPECT_GT(s["drift"]["score"].get<double>(), 1.0);
  const std::string raised_at = s["drift"]["alertChanged"];
  EXPECT_FALSE(raised_at.empty());
  const CmdResult table = Vqi("results stats");
  EXPECT_NE(table.out.find("ALERT"), std::string::npos) << table.out;
  std::printf("[ e2e ] drift on the server: similar tags %.3f, darkened %s\n%s", similar,
              s["drift"].dump().c_str(), table.out.c_str());

  // A model update whose training split is of darkened tags (dataset "dark", model version 2,
  // vqi.model.tags@1.0.1 with its own stats.json): the device reloads the statistics with the
  // model, and darkened tags no longer drift — the alert clears.
  ASSERT_NO_FATAL_FAILURE(DarkModel());
  const std::string id2 = Deploy("drift-2", R"({"deploymentName": "drift", "components": {
      "vqi.model.tags": {"componentVersion": "1.0.1"},
      "vqi.inspect": {"componentVersion": "1.0.0", "configurationUpdate": {"merge":
        "{\"Drift\": {\"Window\": 12, \"MinWindow\": 10}, \"UncertainBand\": [1, 1]}"}}},
    "deploymentPolicies": {"failureHandlingPolicy": "ROLLBACK"}})");
  ASSERT_FALSE(id2.empty());
  ASSERT_TRUE(WaitDeployment(id2, "SUCCEEDED", 60));
  // x0.49, not 0.5: the same bytes would be the same result ids, dropped as duplicates.
  ASSERT_NO_FATAL_FAILURE(Feed(camera, "c-", 0.49, 36));
  ASSERT_TRUE(WaitFor([&] { return !Stats()["drift"].value("alert", true); }, 30))
      << Stats().dump();
  s = Stats();
  EXPECT_LE(s["drift"]["score"].get<double>(), 1.0) << s.dump();
  EXPECT_EQ(s["drift"]["alertsRaised"], 1);
  // The agent restarted vqi-inspect for the new model (a new process starts cleared and sends
  // no "cleared" message): the results' drift field cleared the server's state, at the device
  // time of the first such result.
  EXPECT_GT(s["drift"]["alertChanged"].get<std::string>(), raised_at);
  EXPECT_EQ(s["lastModel"]["version"], "2") << s.dump();
  std::printf("[ e2e ] after the model update (statistics of darkened tags): darkened %s\n",
              s["drift"].dump().c_str());
}

}  // namespace
}  // namespace vqi::e2e
