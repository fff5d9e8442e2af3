// End-to-end: the model registry and the artifact store through the real `vqi` binary, in a
// temporary home: the register gate failing (exit code, message, nothing stored) and passing,
// approve, latest, reject, store verify finding a flipped byte, gc.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "run_vqi.h"
#include "vqi/base/json.h"

namespace {
namespace fs = std::filesystem;
using vqi::testing::CmdResult;

class RegistryCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NE(std::getenv("VQI_BIN"), nullptr) << "VQI_BIN is not set (run through ctest)";
    std::string tmpl = (fs::temp_directory_path() / "vqi-registry-cli-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    home_ = dir_ + "/home";
    std::ofstream(dir_ + "/model.onnx") << "not really onnx, the registry stores bytes";
    WriteReport("low.json", 0.71);
    WriteReport("good.json", 0.86);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // The shape `vqi model eval --report` writes (detect::EvaluationJson).
  void WriteReport(const std::string& name, double map50) {
    vqi::OrderedJson j;
    j["model"] = dir_ + "/model.onnx";
    j["source"] = {{"dataset", "metal"},
                   {"split", "s1"},
                   {"part", "test"},
                   {"split_digest", std::string(64, 'a')}};
    j["failed_images"] = 0;
    j["metrics"] = {{"images", 20},
                    {"map50", map50},
                    {"map75", 0.4},
                    {"map50_95", 0.5},
                    {"precision", 0.8},
                    {"recall", 0.75},
                    {"f1", 0.77},
                    {"per_class", {{{"class_id", 0}, {"name", "scratch"}, {"ap50", map50}}}}};
    std::ofstream(dir_ + "/" + name) << j.dump(1);
  }
  CmdResult Vqi(const std::string& args) {
    return vqi::testing::RunVqi("--home " + home_ + " " + args);
  }
  static bool Has(const CmdResult& r, const std::string& s) {
    return r.out.find(s) != std::string::npos;
  }
  std::string Register(const std::string& report, const std::string& extra = "") {
    return "model register --group tags --model " + dir_ + "/model.onnx --report " + dir_ + "/" +
           report + " --min-map50 0.8 --by alice " + extra;
  }

  std::string dir_, home_;
};

TEST_F(RegistryCliTest, GateApproveLatest) {
  // Below the gate: exit 1, the message, nothing stored.
  CmdResult low = Vqi(Register("low.json"));
  EXPECT_EQ(low.code, 1) << low.out;
  EXPECT_TRUE(
      Has(low, "error: FailedPrecondition: model mAP50 0.71 is below the gate 0.80 (report " +
                   dir_ + "/low.json, part test): not registered"))
      << low.out;
  EXPECT_FALSE(fs::exists(home_ + "/registry"));
  EXPECT_FALSE(fs::exists(home_ + "/artifacts"));

  // Above: version 1, pending.
  CmdResult ok = Vqi("--json " + Register("good.json", "--source-revision e63e5b4"));
  ASSERT_EQ(ok.code, 0) << ok.out;
  vqi::Json v = vqi::Json::parse(ok.out);
  EXPECT_EQ(v["version"], 1);
  EXPECT_EQ(v["status"], "PendingManualApproval");
  EXPECT_EQ(v["lineage"]["source_revision"], "e63e5b4");
  EXPECT_EQ(v["lineage"]["dataset"], "metal");
  EXPECT_EQ(v["artifacts"].size(), 2u);

  CmdResult none = Vqi("model latest --group tags");
  EXPECT_EQ(none.code, 1);
  EXPECT_TRUE(Has(none, "NotFound: model group 'tags' has no Approved version")) << none.out;

  ASSERT_EQ(Vqi(Register("good.json")).code, 0);  // version 2
  CmdResult approve =
      Vqi("model approve --group tags --version 1 --by bob --reason 'field test ok'");
  ASSERT_EQ(approve.code, 0) << approve.out;
  EXPECT_TRUE(Has(approve, "PendingManualApproval → Approved by bob")) << approve.out;

  CmdResult latest = Vqi("--json model latest --group tags");
  ASSERT_EQ(latest.code, 0) << latest.out;
  EXPECT_EQ(vqi::Json::parse(latest.out)["version"], 1);

  // Approve 2, then revoke it: latest falls back to 1.
  ASSERT_EQ(Vqi("model approve --group tags --version 2 --by bob").code, 0);
  EXPECT_EQ(vqi::Json::parse(Vqi("--json model latest --group tags").out)["version"], 2);
  CmdResult twice = Vqi("model approve --group tags --version 2 --by bob");
  EXPECT_EQ(twice.code, 1);
  EXPECT_TRUE(Has(twice, "cannot change approval from Approved to Approved")) << twice.out;
  CmdResult noreason = Vqi("model reject --group tags --version 2 --by carol");
  EXPECT_EQ(noreason.code, 2) << noreason.out;
  ASSERT_EQ(
      Vqi("model reject --group tags --version 2 --by carol --reason 'misses hairlines'").code, 0);
  EXPECT_EQ(vqi::Json::parse(Vqi("--json model latest --group tags").out)["version"], 1);

  CmdResult show = Vqi("--json model show --group tags --version 2");
  ASSERT_EQ(show.code, 0) << show.out;
  vqi::Json h = vqi::Json::parse(show.out)["history"];
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h[2]["from"], "Approved");
  EXPECT_EQ(h[2]["to"], "Rejected");
  EXPECT_EQ(h[2]["actor"], "carol");
  EXPECT_EQ(h[2]["reason"], "misses hairlines");

  CmdResult versions = Vqi("model versions --group tags");
  ASSERT_EQ(versions.code, 0);
  EXPECT_TRUE(Has(versions, "Approved")) << versions.out;
  EXPECT_TRUE(Has(versions, "Rejected")) << versions.out;
  CmdResult groups = Vqi("model groups");
  EXPECT_TRUE(Has(groups, "tags")) << groups.out;

  CmdResult bad = Vqi("model register --group ../x --model " + dir_ + "/model.onnx --report " +
                      dir_ + "/good.json --by alice");
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_TRUE(Has(bad, "model group name '../x'")) << bad.out;

  // A run folder's checkpoint is chosen by name: anything else is a usage error, and a run
  // without the chosen one is named.
  CmdResult choice = Vqi(Register("good.json", "--run " + dir_ + " --run-checkpoint ../best"));
  EXPECT_NE(choice.code, 0) << choice.out;
  EXPECT_TRUE(Has(choice, "--run-checkpoint")) << choice.out;
  CmdResult no_run = Vqi(Register("good.json", "--run " + dir_ + " --run-checkpoint smoothed"));
  EXPECT_EQ(no_run.code, 1) << no_run.out;
  EXPECT_TRUE(Has(no_run, "--run " + dir_ + ": no smoothed.safetensors")) << no_run.out;
}

TEST_F(RegistryCliTest, StoreVerifyAndGc) {
  ASSERT_EQ(Vqi(Register("good.json")).code, 0);
  CmdResult clean = Vqi("store verify");
  EXPECT_EQ(clean.code, 0) << clean.out;
  EXPECT_TRUE(Has(clean, "checked 2 blobs")) << clean.out;

  // An unreferenced blob (a crash between put and commit leaves one): gc removes it only.
  const std::string stray_digest(64, 'b');
  fs::create_directories(home_ + "/artifacts/bb");
  std::ofstream(home_ + "/artifacts/bb/" + stray_digest) << "orphan";
  CmdResult dry = Vqi("store gc --dry-run");
  ASSERT_EQ(dry.code, 0) << dry.out;
  EXPECT_TRUE(Has(dry, "would remove " + stray_digest)) << dry.out;
  EXPECT_TRUE(fs::exists(home_ + "/artifacts/bb/" + stray_digest));
  CmdResult gc = Vqi("--json store gc");
  ASSERT_EQ(gc.code, 0) << gc.out;
  vqi::Json g = vqi::Json::parse(gc.out);
  EXPECT_EQ(g["removed"], 1);
  EXPECT_EQ(g["kept"], 2);
  EXPECT_FALSE(fs::exists(home_ + "/artifacts/bb/" + stray_digest));

  // A flipped byte in the registered model.
  vqi::Json v = vqi::Json::parse(Vqi("--json model show --group tags --version 1").out);
  std::string digest;
  for (const auto& a : v["artifacts"])
    if (a["name"] == "model.onnx") digest = a["digest"];
  const std::string path = home_ + "/artifacts/" + digest.substr(0, 2) + "/" + digest;
  ASSERT_TRUE(fs::exists(path));
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(0);
    f.put('N');
  }
  CmdResult bad = Vqi("store verify");
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_TRUE(Has(bad, "corrupt: " + path)) << bad.out;

  // A component database that cannot be read (damaged): gc refuses, deletes nothing.
  fs::create_directories(home_ + "/components");
  std::ofstream(home_ + "/components/components.db") << "this is not an SQLite database file";
  std::ofstream(home_ + "/artifacts/bb/" + stray_digest) << "orphan";
  CmdResult refused = Vqi("store gc");
  EXPECT_EQ(refused.code, 1) << refused.out;
  EXPECT_TRUE(Has(refused, "not collecting garbage")) << refused.out;
  EXPECT_TRUE(fs::exists(home_ + "/artifacts/bb/" + stray_digest));
}

}  // namespace
