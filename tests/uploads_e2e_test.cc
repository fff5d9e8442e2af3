// Issue 20 acceptance 4 with every real process: `vqi broker run`, `vqi server --mqtt
// --tls-auto` (results ingest + uploads into the dataset), `vqi-agent run --bundle`, and the
// shipped vqi-inspect recipe beside a `vqi component from-model` model, deployed with
// `vqi deployment create`. Every image is uncertain (UncertainBand [0, 1]), so each one dropped
// into the camera folder must appear in the server's unlabelled pool (`vqi dataset unlabeled`)
// with the device and the model name and version, and its result in `vqi results tail`.
#include <set>

#include "eval_report.h"
#include "fleet_e2e_harness.h"

namespace vqi::e2e {
namespace {

class UploadsE2e : public FleetE2e {
 protected:
  // vqi.model.tags@1.0.0 (a random-weight detector, registered and approved) and
  // vqi.inspect@1.0.0 from components/recipes/vqi-inspect.yaml; 3 synthetic tag images.
  void Components() {
    const std::string in = dir_ + "/in";
    CmdResult c = Vqi("model export --random t --imgsz 96x64 --seed 3 --out " + in + "/model.onnx");
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

TEST_F(UploadsE2e, UncertainImagesReachTheUnlabelledPoolWithDeviceAndModelVersion) {
  ASSERT_NO_FATAL_FAILURE(Components());
  ASSERT_NO_FATAL_FAILURE(StartFleet(1, "0.5"));
  const std::string id = Deploy("d1", R"({"deploymentName": "uploads", "components": {
      "vqi.model.tags": {"componentVersion": "1.0.0"},
      "vqi.inspect": {"componentVersion": "1.0.0",
                      "configurationUpdate": {"merge": "{\"UncertainBand\": [0, 1]}"}}}})");
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitDeployment(id, "SUCCEEDED", 90));

  const Agent& a = agents_[0];
  const std::string camera = a.root + "/work/vqi.inspect/camera";
  ASSERT_TRUE(WaitFor([&] { return fs::is_directory(camera); }, 20));
  std::set<std::string> shas;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_ + "/in/synth/images")) {
    names.push_back(e.path().filename().string());
    shas.insert(Sha256Hex(Slurp(e.path().string())));
  }
  ASSERT_EQ(names.size(), 3u);
  for (const std::string& n : names) {  // renamed in, as a camera writer does
    fs::copy_file(dir_ + "/in/synth/images/" + n, dir_ + "/" + n);
    fs::rename(dir_ + "/" + n, camera + "/" + n);
  }

  Json pool;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto j = ParseJson(Vqi("--json dataset unlabeled").out, "pool");
        if (!j.ok()) return false;
        pool = *j;
        return pool.value("unlabeled", 0) == 3;
      },
      60))
      << pool.dump(2);
  std::set<std::string> got;
  for (const Json& img : pool["images"]) {
    got.insert(img.value("image_id", ""));
    ASSERT_EQ(img["origins"].size(), 1u) << img.dump(2);
    const Json& o = img["origins"][0];
    EXPECT_EQ(o["thing"], a.thing);
    EXPECT_EQ(o["component"], "vqi.inspect");
    EXPECT_EQ(o["model"]["name"], "tags");
    EXPECT_EQ(o["model"]["version"], "1");
    EXPECT_EQ(o["resultId"], a.thing + ":" + img.value("image_id", ""));
    EXPECT_FALSE(o.value("vqiMessageId", "").empty());
  }
  EXPECT_EQ(got, shas);  // exactly the bytes that were in the camera folder
  const CmdResult text = Vqi("dataset unlabeled --thing " + a.thing);
  EXPECT_NE(text.out.find("from " + a.thing + " (vqi.inspect, model tags 1"), std::string::npos)
      << text.out;
  // Each image's result was stored as well.
  const CmdResult tail = Vqi("--json results tail --thing " + a.thing);
  for (const std::string& sha : shas)
    EXPECT_NE(tail.out.find(a.thing + ":" + sha), std::string::npos) << tail.out;
}

}  // namespace
}  // namespace vqi::e2e
