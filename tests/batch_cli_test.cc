// `vqi bench infer --batch N` (issue 22, the image path's throughput mode): N images per model
// run on the onednn backend with per-image stage times; opencv and an out-of-range N refused.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "run_vqi.h"
#include "synth_model_suite.h"
#include "vqi/base/json.h"

namespace vqi {
namespace {

namespace fs = std::filesystem;
using vqi::testing::RunVqi;

class BatchCliTest : public vqi::testing::SynthModelSuite<BatchCliTest> {
 public:
  static constexpr const char* kDir = "vqi_batch_cli_";
  static constexpr int kImages = 3;
};

TEST_F(BatchCliTest, BenchRunsBatchesAndReportsPerImage) {
  auto r = RunVqi("--json bench infer --iters 3 --warmup 1 --backend onednn --batch 2 --model " +
                  P("m.onnx") + " --images " + P("s/images"));
  if (r.out.find("not built") != std::string::npos) GTEST_SKIP() << r.out;
  ASSERT_EQ(r.code, 0) << r.out;
  auto j = ParseJson(r.out.substr(r.out.find('{')), "bench output");
  ASSERT_TRUE(j.ok()) << r.out;
  EXPECT_EQ((*j)["batch"], 2);
  EXPECT_EQ((*j)["iters"], 6) << "3 runs of 2 images";
  EXPECT_EQ((*j)["failures"], 0);
  EXPECT_GT((*j)["stages_ms"]["model"]["p50"].get<double>(), 0);
  EXPECT_GT((*j)["stages_ms"]["decode"]["p50"].get<double>(), 0);
  r = RunVqi("bench infer --iters 2 --warmup 0 --backend onednn --batch 2 --model " + P("m.onnx") +
             " --images " + P("s/images"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("batch 2: one model run per 2 images"), std::string::npos) << r.out;
}

TEST_F(BatchCliTest, OpencvAndOutOfRangeAreRefused) {
  auto r = RunVqi("bench infer --iters 2 --backend opencv --batch 2 --model " + P("m.onnx") +
                  " --images " + P("s/images"));
  EXPECT_NE(r.code, 0) << r.out;
  // A vqi built without OpenCV DNN (make test-minimal) refuses the backend name itself.
  const bool opencv_built = r.out.find("not built") == std::string::npos &&
                            r.out.find("unknown inference backend 'opencv'") == std::string::npos;
  if (opencv_built) {
    EXPECT_NE(r.out.find("the opencv backend runs one image per run"), std::string::npos) << r.out;
  }
  r = RunVqi("bench infer --batch 65 --model " + P("m.onnx") + " --images " + P("s/images"));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("--batch"), std::string::npos) << r.out;
  r = RunVqi("bench infer --batch 2 --pipeline --model " + P("m.onnx") + " --images " +
             P("s/images"));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("exclude each other"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace vqi
