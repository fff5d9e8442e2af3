// End-to-end `vqi model quantize`: export a model, calibrate it on synthesized tags, write the
// QDQ file, check it, run it (oneDNN int8) and compare its mAP with the float model's; and the
// bad inputs a user meets (no images, a float16 model, a missing file).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "run_vqi.h"
#include "vqi/onnx/export.h"

namespace {

namespace fs = std::filesystem;

using vqi::testing::CmdResult;

class QuantizeCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::getenv("VQI_BIN")) GTEST_SKIP() << "VQI_BIN not set (run through ctest)";
    dir_ = fs::path(::testing::TempDir()) / ("vqi_quantize_cli_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  CmdResult Vqi(const std::string& args) {
    return vqi::testing::RunVqi("--home " + (dir_ / "home").string() + " --threads 2 " + args);
  }
  std::string P(const std::string& name) { return (dir_ / name).string(); }
  fs::path dir_;
};

TEST_F(QuantizeCliTest, CalibratesWritesAndEvaluatesAnInt8Model) {
  auto r = Vqi("model export --random t --imgsz 160x128 --seed 4 --out " + P("m.onnx"));
  ASSERT_EQ(r.code, 0) << r.out;
  r = Vqi("dataset synth --count 6 --seed 2 --out " + P("synth"));
  if (r.code != 0) GTEST_SKIP() << "this vqi has no `dataset synth`: " << r.out;
  r = Vqi("model quantize --model " + P("m.onnx") + " --calib " + P("synth/images") +
          " --max-images 4 --out " + P("q.onnx") + " --eval-images " + P("synth"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("calibration on 4 images"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mAP50 on"), std::string::npos) << r.out;
  auto s = vqi::onnx::CheckOnnxFile(P("q.onnx"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_GT(s->op_counts["QuantizeLinear"], 10);
  EXPECT_LT(fs::file_size(P("q.onnx")), fs::file_size(P("m.onnx")) * 35 / 100);
  ASSERT_TRUE(s->metadata.count("vqi.quantization"));
  EXPECT_NE(s->metadata["vqi.quantization"].find("\"images\":4"), std::string::npos);

  // The int8 file runs on the oneDNN backend with int8 kernels.
  r = Vqi("model predict --backend onednn --model " + P("q.onnx") + " --images " +
          P("synth/images") + " --conf 0.001");
  EXPECT_EQ(r.code, 0) << r.out;
}

TEST_F(QuantizeCliTest, BadInputIsNamed) {
  ASSERT_EQ(Vqi("model export --random t --imgsz 96x64 --out " + P("m.onnx")).code, 0);
  fs::create_directories(P("empty"));
  auto r = Vqi("model quantize --model " + P("m.onnx") + " --calib " + P("empty") + " --out " +
               P("q.onnx"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("empty"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(P("q.onnx")));

  ASSERT_EQ(Vqi("model export --random t --imgsz 96x64 --float16 --out " + P("h.onnx")).code, 0);
  ASSERT_EQ(Vqi("dataset synth --count 1 --seed 1 --out " + P("s")).code, 0);
  r = Vqi("model quantize --model " + P("h.onnx") + " --calib " + P("s/images") + " --out " +
          P("q.onnx"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("float16"), std::string::npos) << r.out;

  // A calibration image that does not decode is named and skipped; the others are used.
  fs::copy(P("s/images"), P("mixed"), fs::copy_options::recursive);
  {
    std::FILE* f = std::fopen(P("mixed/broken.jpg").c_str(), "w");
    std::fputs("not a jpeg", f);
    std::fclose(f);
  }
  r = Vqi("model quantize --model " + P("m.onnx") + " --calib " + P("mixed") + " --out " +
          P("q.onnx"));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("broken.jpg"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("calibration on 1 images"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(P("q.onnx")));
  fs::remove(P("q.onnx"));

  r = Vqi("model quantize --model " + P("missing.onnx") + " --calib " + P("empty") + " --out " +
          P("q.onnx"));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("missing.onnx"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(P("q.onnx")));
}

}  // namespace
