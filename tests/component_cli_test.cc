// End-to-end (issue 18, acceptance 3 through the real `vqi`): key create → component create →
// verify OK → corrupt the stored blob → verify fails naming the artifact; a device that trusts
// only an exported public key verifies too, and one trusting another key refuses.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "run_vqi.h"
#include "vqi/base/file.h"
#include "vqi/base/hash.h"
#include "vqi/base/json.h"

namespace {

namespace fs = std::filesystem;
using vqi::testing::CmdResult;

class ComponentCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (fs::temp_directory_path() / "vqi-component-cli-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    dir_ = t;
    home_ = dir_ + "/home";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  CmdResult Vqi(const std::string& args, const std::string& home = "") {
    return vqi::testing::RunVqi("--home '" + (home.empty() ? home_ : home) + "' " + args);
  }
  void Write(const std::string& rel, const std::string& data) {
    ASSERT_TRUE(vqi::WriteFileAtomic(dir_ + "/" + rel, data).ok());
  }
  std::string dir_, home_;
};

TEST_F(ComponentCliTest, CreateVerifyTamper) {
  Write("in/recipe.json", R"({
    "RecipeFormatVersion": "2020-01-25",
    "ComponentName": "com.acme.inspect",
    "ComponentVersion": "COMPONENT_VERSION",
    "ComponentPublisher": "Acme",
    "Manifests": [{"Platform": {"os": "linux"},
                   "Lifecycle": {"run": "{artifacts:path}/run.sh"},
                   "Artifacts": [{"Uri": "s3://BUCKET_NAME/inspect/model.onnx"},
                                 {"Uri": "s3://BUCKET_NAME/inspect/run.sh"}]}]})");
  const std::string model(50000, 'm');
  Write("in/model.onnx", model);
  Write("in/run.sh", "#!/bin/sh\necho inspect\n");

  CmdResult key = Vqi("key create acme");
  ASSERT_EQ(key.code, 0) << key.out;
  CmdResult create = Vqi("component create --recipe " + dir_ + "/in/recipe.json --artifact " +
                         dir_ + "/in/model.onnx --artifact " + dir_ +
                         "/in/run.sh --var COMPONENT_VERSION=1.0.0 --var BUCKET_NAME=b --key acme");
  ASSERT_EQ(create.code, 0) << create.out;
  EXPECT_NE(create.out.find("created com.acme.inspect@1.0.0 (2 artifacts"), std::string::npos)
      << create.out;

  CmdResult list = Vqi("component list --json");
  ASSERT_EQ(list.code, 0) << list.out;
  EXPECT_NE(list.out.find("\"latest\": \"1.0.0\""), std::string::npos) << list.out;

  CmdResult ok = Vqi("component verify com.acme.inspect@1.0.0");
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_NE(ok.out.find("OK com.acme.inspect@1.0.0"), std::string::npos) << ok.out;

  // A device holding only the exported public key verifies the same store.
  CmdResult exported = Vqi("key export acme");
  ASSERT_EQ(exported.code, 0) << exported.out;
  Write("acme.pub", exported.out);
  const std::string device = dir_ + "/device";
  fs::create_directories(device + "/components");
  fs::copy(home_ + "/components", device + "/components", fs::copy_options::recursive);
  fs::copy(home_ + "/artifacts", device + "/artifacts", fs::copy_options::recursive);
  CmdResult untrusted = Vqi("component verify com.acme.inspect@1.0.0", device);
  EXPECT_EQ(untrusted.code, 1) << untrusted.out;
  EXPECT_NE(untrusted.out.find("PermissionDenied"), std::string::npos) << untrusted.out;
  EXPECT_NE(untrusted.out.find("signed by unknown key"), std::string::npos) << untrusted.out;
  ASSERT_EQ(Vqi("key trust acme " + dir_ + "/acme.pub", device).code, 0);
  CmdResult trusted = Vqi("component verify com.acme.inspect@1.0.0", device);
  EXPECT_EQ(trusted.code, 0) << trusted.out;

  // Corrupt the stored blob: one flipped byte.
  const std::string digest = vqi::Sha256Hex(model);
  const std::string blob = home_ + "/artifacts/" + digest.substr(0, 2) + "/" + digest;
  ASSERT_TRUE(fs::exists(blob)) << blob;
  {
    std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(1234);
    f.put('M');
  }
  std::string flipped = model;
  flipped[1234] = 'M';
  CmdResult bad = Vqi("component verify com.acme.inspect@1.0.0");
  EXPECT_EQ(bad.code, 1) << bad.out;
  EXPECT_NE(bad.out.find("DataLoss"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("artifact model.onnx: content hashes to " + vqi::Sha256Hex(flipped) +
                         ", manifest says " + digest),
            std::string::npos)
      << bad.out;
}

// register → approve → from-model (once) → verify; store gc keeps what components reference.
TEST_F(ComponentCliTest, FromModelAndGc) {
  Write("model.onnx", "onnx bytes of the approved model");
  vqi::OrderedJson report;
  report["model"] = dir_ + "/model.onnx";
  report["source"] = {{"dataset", "metal"},
                      {"split", "s1"},
                      {"part", "test"},
                      {"split_digest", std::string(64, 'a')}};
  report["failed_images"] = 0;
  report["metrics"] = {
      {"images", 20},     {"map50", 0.9},  {"map75", 0.5}, {"map50_95", 0.6},
      {"precision", 0.8}, {"recall", 0.7}, {"f1", 0.75},   {"per_class", vqi::Json::array()}};
  Write("report.json", report.dump());
  ASSERT_EQ(Vqi("key create acme").code, 0);
  CmdResult none = Vqi("component from-model --group tags --key acme");
  EXPECT_EQ(none.code, 1) << none.out;  // no registry yet
  EXPECT_NE(none.out.find("no model registry"), std::string::npos) << none.out;
  CmdResult reg = Vqi("model register --group tags --model " + dir_ + "/model.onnx --report " +
                      dir_ + "/report.json --by alice");
  ASSERT_EQ(reg.code, 0) << reg.out;
  ASSERT_EQ(Vqi("model approve --group tags --version 1 --by bob").code, 0);

  CmdResult first = Vqi("component from-model --group tags --key acme");
  ASSERT_EQ(first.code, 0) << first.out;
  EXPECT_NE(first.out.find("created vqi.model.tags@1.0.0 from registry:tags/1"), std::string::npos)
      << first.out;
  CmdResult again = Vqi("component from-model --group tags --key acme");
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_NE(again.out.find("up to date: vqi.model.tags@1.0.0 already packages registry:tags/1"),
            std::string::npos)
      << again.out;
  CmdResult show = Vqi("component show vqi.model.tags --json");
  ASSERT_EQ(show.code, 0) << show.out;
  vqi::Json j = vqi::Json::parse(show.out);
  EXPECT_EQ(j["recipe"]["ComponentConfiguration"]["DefaultConfiguration"]["model"]["version"], 1);

  // A component of its own with an artifact nothing else references: gc must keep it.
  Write("in/recipe.json",
        R"({"RecipeFormatVersion":"2020-01-25","ComponentName":"c","ComponentVersion":"1.0.0",
    "Manifests":[{"Artifacts":[{"Uri":"tool.sh"}]}]})");
  Write("in/tool.sh", "echo tool\n");
  CmdResult create = Vqi("component create --recipe " + dir_ + "/in/recipe.json --artifact " +
                         dir_ + "/in/tool.sh --key acme");
  ASSERT_EQ(create.code, 0) << create.out;
  CmdResult gc = Vqi("--json store gc");
  ASSERT_EQ(gc.code, 0) << gc.out;
  EXPECT_EQ(vqi::Json::parse(gc.out)["removed"], 0) << gc.out;
  EXPECT_EQ(Vqi("component verify c@1.0.0").code, 0);
  EXPECT_EQ(Vqi("component verify vqi.model.tags@1.0.0").code, 0);
}

TEST_F(ComponentCliTest, BadInputIsRefusedWithExitCodes) {
  Write("in/recipe.json", R"({"ComponentName":"c","ComponentVersion":"1.0.0"})");
  ASSERT_EQ(Vqi("key create acme").code, 0);
  CmdResult var =
      Vqi("component create --recipe " + dir_ + "/in/recipe.json --var NOEQUALS --key acme");
  EXPECT_EQ(var.code, 2) << var.out;
  EXPECT_NE(var.out.find("--var 'NOEQUALS': expected KEY=VALUE"), std::string::npos) << var.out;
  CmdResult nokey = Vqi("component create --recipe " + dir_ + "/in/recipe.json --key nobody");
  EXPECT_EQ(nokey.code, 1) << nokey.out;
  EXPECT_NE(nokey.out.find("vqi key create nobody"), std::string::npos) << nokey.out;
  CmdResult ref = Vqi("component verify c");
  EXPECT_EQ(ref.code, 2) << ref.out;
  CmdResult missing = Vqi("component verify c@9.9.9");
  EXPECT_EQ(missing.code, 1) << missing.out;
  EXPECT_NE(missing.out.find("NotFound"), std::string::npos) << missing.out;
  CmdResult hostile = Vqi("key create ../../etc");
  EXPECT_EQ(hostile.code, 2) << hostile.out;
}

}  // namespace
