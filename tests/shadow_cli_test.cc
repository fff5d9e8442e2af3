// Shadow models through the real `vqi` (docs/design/shadow.md): `vqi deployment create --shadow
// C@V --promote-when RULE` (a bad rule refused naming its position, nothing stored), `vqi
// deployment status` with the evidence so far, `vqi results shadow` per device and per fleet.
// Statistics are put into <home>/fleet/shadow.db as the server's ingest does
// (fleet::IngestShadowMessage); promotion itself is the controller's (fleet_shadow_test).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "run_vqi.h"
#include "vqi/base/file.h"
#include "vqi/base/json.h"
#include "vqi/fleet/shadow_store.h"

namespace {

namespace fs = std::filesystem;
using vqi::testing::CmdResult;

class ShadowCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (fs::temp_directory_path() / "vqi-shadow-cli-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    dir_ = t;
    home_ = dir_ + "/home";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  CmdResult Vqi(const std::string& args) {
    return vqi::testing::RunVqi("--home '" + home_ + "' " + args);
  }
  void Write(const std::string& rel, const std::string& data) {
    ASSERT_TRUE(vqi::WriteFileAtomic(dir_ + "/" + rel, data).ok());
  }
  void Component(const std::string& name, const std::string& version, const std::string& dep = "") {
    const std::string deps = dep.empty() ? ""
                                         : R"("ComponentDependencies": {")" + dep +
                                               R"(": {"VersionRequirement": ">=1.0.0"}},)";
    const std::string rel = "in/" + name + "-" + version;
    Write(rel + "/recipe.json", R"({"RecipeFormatVersion": "2020-01-25", "ComponentName": ")" +
                                    name + R"(", "ComponentVersion": ")" + version +
                                    R"(", "ComponentPublisher": "Acme", )" + deps +
                                    R"( "Manifests": [{"Platform": {"os": "linux"},
                   "Lifecycle": {"run": "{artifacts:path}/run.sh"},
                   "Artifacts": [{"Uri": "s3://b/run.sh"}]}]})");
    Write(rel + "/run.sh", "#!/bin/sh\necho " + name + " " + version + "\n");
    CmdResult c = Vqi("component create --recipe " + dir_ + "/" + rel + "/recipe.json --artifact " +
                      dir_ + "/" + rel + "/run.sh --key acme");
    ASSERT_EQ(c.code, 0) << c.out;
  }
  void Stats(const std::string& thing, int images, int agree) {
    auto store = vqi::fleet::OpenSqliteShadowStore(vqi::fleet::ShadowDbPath(home_));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    vqi::Json j{
        {"schema", "vqi.inspect.shadow/1"},
        {"thing", thing},
        {"component", "vqi.inspect"},
        {"live", {{"name", "tags"}, {"version", "1.0.0"}}},
        {"candidate", {{"component", "vqi.model.tags"}, {"name", "tags"}, {"version", "1.0.1"}}},
        {"counts",
         {{"images", images},
          {"verdict_agree", agree},
          {"live_fail", 0},
          {"candidate_fail", 0},
          {"candidate_errors", 0},
          {"boxes_live", 10},
          {"boxes_candidate", 10},
          {"boxes_matched", 10},
          {"box_slots", 10},
          {"pairs", 10}}},
        {"sums",
         {{"best_shift", 0.0},
          {"pair_shift", 0.0},
          {"live_ms", 14.0 * images},
          {"candidate_ms", 21.0 * images}}},
        {"at", "2026-12-06T14:00:00.000Z"}};
    ASSERT_TRUE(vqi::fleet::IngestShadowMessage(**store, thing, "vqi.inspect", j.dump(), 1).ok());
  }
  vqi::Json JsonOf(const CmdResult& r) {
    auto j = vqi::ParseJson(r.out, "vqi output");
    EXPECT_TRUE(j.ok()) << r.out;
    return j.ok() ? *j : vqi::Json();
  }
  std::string dir_, home_;
};

TEST_F(ShadowCliTest, CreateWithRuleStatusAndStatistics) {
  ASSERT_EQ(Vqi("key create acme").code, 0);
  Component("vqi.model.tags", "1.0.0");
  Component("vqi.model.tags", "1.0.1");
  Component("vqi.inspect", "1.0.0", "vqi.model.tags");
  for (const char* t : {"cam-1", "cam-2"})
    ASSERT_EQ(Vqi(std::string("thing create ") + t + " --group line").code, 0);
  Write("dep.json", R"({"components": {"vqi.model.tags": {"componentVersion": "1.0.0"},
                                       "vqi.inspect": {"componentVersion": "1.0.0"}}})");
  const std::string create = "deployment create --target group:line --file " + dir_ + "/dep.json";

  CmdResult bad = Vqi(
      create + " --shadow vqi.model.tags@1.0.1 --promote-when 'images >= 200 && agreement >= 0.9'");
  EXPECT_EQ(bad.code, 2) << bad.out;  // InvalidArgument
  EXPECT_NE(bad.out.find("vqiShadow.promoteWhen: position 18: unknown name \"agreement\"; "
                         "accepted: images, devices, verdict_agreement"),
            std::string::npos)
      << bad.out;
  CmdResult no_candidate = Vqi(create + " --promote-when 'images >= 1'");
  EXPECT_EQ(no_candidate.code, 2);
  EXPECT_NE(no_candidate.out.find("need a candidate"), std::string::npos) << no_candidate.out;
  CmdResult unknown = Vqi(create + " --shadow vqi.model.tags@9.9.9");
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.out.find("vqiShadow: candidate vqi.model.tags@9.9.9"), std::string::npos)
      << unknown.out;
  EXPECT_EQ(JsonOf(Vqi("deployment list --json")).size(), 0u) << "nothing stored on error";

  const std::string rule = "images>=200 && verdict_agreement>=0.98 && devices>=2";
  CmdResult ok = Vqi(create + " --shadow vqi.model.tags@1.0.1 --promote-when '" + rule + "'");
  ASSERT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(ok.out.find("shadow vqi.model.tags 1.0.1 in vqi.inspect, promoted when " + rule),
            std::string::npos)
      << ok.out;

  CmdResult none = Vqi("results shadow");
  EXPECT_EQ(none.code, 1);
  EXPECT_NE(none.out.find("no shadow statistics received yet"), std::string::npos) << none.out;

  Stats("cam-1", 150, 149);
  Stats("cam-2", 100, 100);
  Stats("cam-9", 1000, 0);  // not in the deployment: shown by results, not counted for it
  vqi::Json all = JsonOf(Vqi("results shadow --json"));
  ASSERT_EQ(all.size(), 1u) << all.dump();
  EXPECT_EQ(all[0]["candidate"], "vqi.model.tags@1.0.1");
  EXPECT_EQ(all[0]["fleet"]["images"], 1250);
  EXPECT_EQ(all[0]["devices"].size(), 3u);
  CmdResult table = Vqi("results shadow --candidate vqi.model.tags@1.0.1");
  ASSERT_EQ(table.code, 0) << table.out;
  EXPECT_NE(table.out.find("1250 images on 3 devices"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("(x1.500)"), std::string::npos) << table.out;

  vqi::Json st = JsonOf(Vqi("deployment status dep-1 --json"));
  ASSERT_TRUE(st.contains("shadow")) << st.dump();
  EXPECT_EQ(st["shadow"]["promoteWhen"], rule);
  EXPECT_EQ(st["shadow"]["evidence"]["images"], 250);
  EXPECT_EQ(st["shadow"]["evidence"]["devices"], 2);
  EXPECT_DOUBLE_EQ(st["shadow"]["evidence"]["verdict_agreement"].get<double>(), 0.996);
  EXPECT_EQ(st["shadow"]["holds"], true);
  CmdResult text = Vqi("deployment status dep-1");
  EXPECT_NE(text.out.find("shadow vqi.model.tags 1.0.1 in vqi.inspect; rule: " + rule),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find("(holds)"), std::string::npos) << text.out;
}

}  // namespace
