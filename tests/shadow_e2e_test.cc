// Acceptance 5, shadow half, with real processes (docs/design/shadow.md): `vqi broker run`,
// `vqi server --mqtt --tls-auto` (fleet controller + results ingest), two `vqi-agent run
// --bundle` running vqi.inspect (shipped recipe, the real vqi-inspect) over vqi.model.tags
// 1.0.0 with 1.0.1 in its shadow, created by `vqi deployment create --shadow --promote-when`.
// Images in each agent's camera folder → vqi-inspect compares both models → shadow statistics
// through the agent's spool → the server's shadow store → the rule:
//  * a candidate that agrees (the same weights) is promoted: a second deployment with 1.0.1 as
//    the live model reaches both agents, and nothing is downloaded again for it;
//  * one that disagrees (other weights: |score_shift| > 0.05) is not.
#include <cmath>

#include "eval_report.h"
#include "fleet_e2e_harness.h"

namespace vqi::e2e {
namespace {

// The issue's rule plus a score criterion: random-weight detectors of two seeds find the same
// few boxes on synthetic tags (box_match 1) but score them differently (shift ~ -0.13).
constexpr const char* kRule =
    "images>=6 && verdict_agreement>=0.98 && box_match>=0.95 && abs_score_shift<=0.05 && "
    "devices>=2";

class ShadowE2e : public FleetE2e {
 protected:
  void Model(int seed, int version) {
    const std::string dir = dir_ + "/in/m" + std::to_string(version);
    CmdResult c = Vqi("model export --random t --imgsz 96x64 --seed " + std::to_string(seed) +
                      " --out " + dir + "/model.onnx");
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
  // vqi.model.tags 1.0.0 (seed 3) and 1.0.1 (`candidate_seed`), vqi.inspect 1.0.0, images.
  void Components(int candidate_seed) {
    ASSERT_NO_FATAL_FAILURE(Model(3, 1));
    ASSERT_NO_FATAL_FAILURE(Model(candidate_seed, 2));
    for (const std::string& cmd :
         {"component create --recipe " + std::string(VQI_SOURCE_DIR) +
              "/components/recipes/vqi-inspect.yaml --artifact " + VQI_INSPECT_BIN +
              " --var COMPONENT_VERSION=1.0.0 --var MODEL_GROUP=tags --key acme",
          "dataset synth --count 4 --seed 1 --out " + dir_ + "/in/synth"}) {
      CmdResult c = Vqi(cmd);
      ASSERT_EQ(c.code, 0) << cmd << "\n" << c.out;
    }
  }
  std::string DeployShadow() {
    const std::string path = dir_ + "/deployments/shadow.json";
    EXPECT_TRUE(WriteFileAtomic(path, R"({"components": {
        "vqi.model.tags": {"componentVersion": "1.0.0"},
        "vqi.inspect": {"componentVersion": "1.0.0", "configurationUpdate": {"merge":
          "{\"SettleSeconds\": 0, \"UncertainBand\": [0, 0], \"Shadow\": {\"ReportEvery\": 2}}"}}}})")
                    .ok());
    const CmdResult c = Vqi("deployment create --target group:e2e --file " + path +
                            " --shadow vqi.model.tags@1.0.1 --promote-when '" + kRule + "' --json");
    EXPECT_EQ(c.code, 0) << c.out;
    return c.code == 0 ? JsonOf(c).value("id", "") : "";
  }
  // Four images into each agent's camera folder (renamed in, as a camera writer does).
  void Feed() {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_ + "/in/synth/images"))
      names.push_back(e.path().filename().string());
    ASSERT_EQ(names.size(), 4u);
    for (Agent& a : agents_) {
      const std::string camera = a.root + "/work/vqi.inspect/camera";
      ASSERT_TRUE(WaitFor([&] { return fs::is_directory(camera); }, 20)) << a.thing;
      for (const std::string& n : names) {
        fs::copy_file(dir_ + "/in/synth/images/" + n, a.root + "/" + n);
        fs::rename(a.root + "/" + n, camera + "/" + n);
      }
    }
  }
  // `vqi results shadow --json`: the fleet numbers of the candidate once both devices reported
  // all their images.
  Json WaitEvidence() {
    Json fleet;
    const bool ok = WaitFor(
        [&] {
          const CmdResult c = Vqi("results shadow --candidate vqi.model.tags@1.0.1 --json");
          if (c.code != 0) return false;
          const Json j = JsonOf(c);
          if (!j.is_array() || j.empty()) return false;
          fleet = j[0]["fleet"];
          return fleet.value("devices", 0) == 2 && fleet.value("images", 0) == 8;
        },
        90);
    EXPECT_TRUE(ok) << fleet.dump();
    return fleet;
  }
  std::string PromotedFrom(const std::string& id) {
    const Json st = JsonOf(Vqi("deployment status " + id + " --json"));
    auto it = st.find("superseded_by");  // null while live
    return it != st.end() && it->is_string() ? it->get<std::string>() : "";
  }
};

TEST_F(ShadowE2e, ACandidateThatAgreesIsPromotedToTheWholeFleet) {
  ASSERT_NO_FATAL_FAILURE(Components(3));  // the same weights: it agrees
  ASSERT_NO_FATAL_FAILURE(StartFleet(2));
  const std::string id = DeployShadow();
  ASSERT_TRUE(WaitDeployment(id, "SUCCEEDED", 90));
  const int64_t downloaded[2] = {BytesDownloaded(agents_[0]), BytesDownloaded(agents_[1])};
  ASSERT_NO_FATAL_FAILURE(Feed());
  const Json evidence = WaitEvidence();
  EXPECT_DOUBLE_EQ(evidence.value("verdict_agreement", 0.0), 1.0) << evidence.dump();
  EXPECT_DOUBLE_EQ(evidence.value("box_match", 0.0), 1.0) << evidence.dump();
  std::string promoted;
  ASSERT_TRUE(WaitFor([&] { return !(promoted = PromotedFrom(id)).empty(); }, 30))
      << Vqi("deployment status " + id).out;
  Json st;
  ASSERT_TRUE(WaitDeployment(promoted, "SUCCEEDED", 90, &st));
  ASSERT_TRUE(st.contains("promotion")) << st.dump(2);
  EXPECT_EQ(st["promotion"]["from"], id);
  EXPECT_EQ(st["promotion"]["rule"], kRule);
  // The controller promotes as soon as the rule holds (images >= 6), which may be before the
  // last of the 8 fed images is in.
  const int evidence_images = st["promotion"]["evidence"].value("images", 0);
  EXPECT_GE(evidence_images, 6) << st.dump(2);
  EXPECT_LE(evidence_images, 8) << st.dump(2);
  for (int i = 0; i < 2; ++i) {
    const Json s = AgentStatus(agents_[i]);
    EXPECT_EQ(s["components"]["vqi.model.tags"].value("version", ""), "1.0.1") << s.dump();
    // Promotion downloaded nothing: the candidate was fetched (and cached) for the shadow.
    EXPECT_EQ(BytesDownloaded(agents_[i]), downloaded[i]) << agents_[i].thing;
  }
  std::printf("[ e2e ] promoted %s -> %s: %s\n", id.c_str(), promoted.c_str(),
              st["promotion"]["evidence"].dump().c_str());
  EXPECT_NE(Vqi("deployment status " + promoted).out.find("because " + std::string(kRule)),
            std::string::npos);
}

TEST_F(ShadowE2e, ACandidateThatDisagreesIsNotPromoted) {
  ASSERT_NO_FATAL_FAILURE(Components(4));  // other weights
  ASSERT_NO_FATAL_FAILURE(StartFleet(2));
  const std::string id = DeployShadow();
  ASSERT_TRUE(WaitDeployment(id, "SUCCEEDED", 90));
  ASSERT_NO_FATAL_FAILURE(Feed());
  const Json evidence = WaitEvidence();
  EXPECT_GT(std::abs(evidence.value("score_shift", 0.0)), 0.05) << evidence.dump();
  std::this_thread::sleep_for(std::chrono::seconds(3));  // ~15 controller polls
  EXPECT_EQ(PromotedFrom(id), "");
  const Json st = JsonOf(Vqi("deployment status " + id + " --json"));
  EXPECT_EQ(st["shadow"].value("holds", true), false) << st.dump(2);
  for (Agent& a : agents_)
    EXPECT_EQ(AgentStatus(a)["components"]["vqi.model.tags"].value("version", ""), "1.0.0");
}

}  // namespace
}  // namespace vqi::e2e
