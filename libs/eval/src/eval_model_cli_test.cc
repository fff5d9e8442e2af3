// End-to-end with a real detector: trains a tiny checkpoint for one epoch on synthesized tags,
// then runs `vqi model predict` and `vqi model eval` on it. Skipped when the binary was built
// without training (no `vqi model train`) or dataset synthesis.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "vqi/base/file.h"
#include "vqi/base/json.h"

namespace {

namespace fs = std::filesystem;

class EvalModelCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* bin = std::getenv("VQI_BIN");
    if (!bin || !fs::exists(bin)) GTEST_SKIP() << "VQI_BIN not set or not built";
    bin_ = bin;
    dir_ = fs::path(::testing::TempDir()) / ("vqi_eval_model_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // `--help` of a verb that does not exist still prints the noun's help: look for the verb.
    const bool train = Vqi("model --help") == 0 && Out().find("  train") != std::string::npos;
    const bool synth = Vqi("dataset --help") == 0 && Out().find("  synth") != std::string::npos;
    if (!train || !synth) GTEST_SKIP() << "this vqi has no `model train` or `dataset synth`";
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  int Vqi(const std::string& args) {
    const std::string cmd = bin_ + " --home " + (dir_ / "home").string() + " --threads 2 " + args +
                            " >" + (dir_ / "stdout").string() + " 2>" + (dir_ / "stderr").string();
    const int status = std::system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::string Out() { return *vqi::ReadFile((dir_ / "stdout").string()); }
  std::string Err() { return *vqi::ReadFile((dir_ / "stderr").string()); }

  std::string bin_;
  fs::path dir_;
};

TEST_F(EvalModelCliTest, PredictAndEvalACheckpoint) {
  const std::string synth = (dir_ / "synth").string();
  ASSERT_EQ(Vqi("dataset synth --count 6 --seed 3 --out " + synth), 0) << Err();
  const std::string run = (dir_ / "run").string();
  ASSERT_EQ(Vqi("model train --synthetic 8 --epochs 1 --scale t --imgsz 160x128 --batch 4 "
                "--seed 1 --out " +
                run),
            0)
      << Err();
  const std::string ckpt = run + "/last.safetensors";
  ASSERT_TRUE(fs::exists(ckpt)) << Err();

  const std::string pred = (dir_ / "pred").string();
  ASSERT_EQ(Vqi("model predict --model " + ckpt + " --images " + synth +
                "/images --conf 0.001 --out " + pred),
            0)
      << Err();
  int lines = 0;
  for (char c : Out()) lines += c == '\n';
  EXPECT_EQ(lines, 6);
  int annotated = 0;
  for (const auto& e : fs::directory_iterator(pred)) annotated += e.path().extension() != ".json";
  EXPECT_EQ(annotated, 6);

  const std::string report = (dir_ / "report.json").string();
  ASSERT_EQ(Vqi("model eval --model " + ckpt + " --images " + synth + " --report " + report), 0)
      << Err();
  EXPECT_NE(Out().find("mAP50-95"), std::string::npos);
  auto j = vqi::ReadJsonFile(report);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["metrics"]["images"], 6);
  const double map50 = (*j)["metrics"]["map50"].get<double>();
  EXPECT_GE(map50, 0.0);
  EXPECT_LE(map50, 1.0);

  // The saved predictions score like the checkpoint itself (same conf 0.001 and IoU 0.7; the
  // file rounds boxes to 1e-3 px and scores to 1e-5).
  ASSERT_EQ(Vqi("--json model eval --model " + pred + "/predictions.json --images " + synth), 0)
      << Err();
  auto again = vqi::ParseJson(Out());
  ASSERT_TRUE(again.ok());
  EXPECT_NEAR((*again)["metrics"]["map50"].get<double>(), map50, 1e-3);
}

}  // namespace
