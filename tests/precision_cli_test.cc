// `--precision auto|fp32|bf16|int8` on `vqi model predict|eval` and `vqi bench infer` (issue 22):
// bf16 runs on the onednn backend and says so; a CPU without AVX512-BF16 (simulated with
// oneDNN's own ONEDNN_MAX_CPU_ISA, so the real ISA query answers) gets a clear refusal; a
// precision that does not match the file, an unknown name, and bf16 on opencv are named.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "run_vqi.h"
#include "synth_model_suite.h"
#include "vqi/base/file.h"

namespace vqi {
namespace {

namespace fs = std::filesystem;
using vqi::testing::RunVqi;

class PrecisionCliTest : public vqi::testing::SynthModelSuite<PrecisionCliTest> {
 public:
  static constexpr const char* kDir = "vqi_precision_cli_";
  static constexpr int kImages = 3;

 protected:
  // True when this CPU runs bf16 (else the refusal is what a bf16 run prints).
  static bool HasBf16(const testing::CmdResult& r) {
    return r.out.find("needs a CPU with AVX512-BF16") == std::string::npos;
  }
};

TEST_F(PrecisionCliTest, Bf16RunsOnOnednnAndSaysSo) {
  auto r = RunVqi(
      "--json bench infer --iters 3 --warmup 1 --backend onednn --precision bf16 "
      "--model " +
      P("m.onnx") + " --images " + P("s/images"));
  if (!HasBf16(r)) GTEST_SKIP() << "no AVX512-BF16 here: " << r.out;
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("precision=bf16 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("avx512_core_bf16"), std::string::npos) << r.out;
  // auto: the float file runs fp32.
  r = RunVqi("--json bench infer --iters 3 --warmup 1 --backend onednn --model " + P("m.onnx") +
             " --images " + P("s/images"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("precision=fp32 "), std::string::npos) << r.out;
  // predict and eval take it too (and find about what fp32 finds on the same images).
  r = RunVqi("model predict --precision bf16 --model " + P("m.onnx") + " --images " +
             P("s/images") + " --out " + P("pred"));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(fs::exists(P("pred/predictions.json"))) << r.out;
  r = RunVqi("model eval --precision bf16 --model " + P("m.onnx") + " --images " + P("s"));
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("mAP50"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("onnx/onednn 96x64 bf16"), std::string::npos) << "what ran: " << r.out;
}

TEST_F(PrecisionCliTest, Bf16WithoutTheIsaIsRefused) {
  // oneDNN caps its ISA at AVX512_CORE_VNNI (no BF16): the backend's ISA query reports that.
  ASSERT_EQ(setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_VNNI", 1), 0);
  auto r = RunVqi("model predict --precision bf16 --model " + P("m.onnx") + " --images " +
                  P("s/images") + " --out " + P("noisa"));
  auto b = RunVqi("bench infer --iters 2 --precision bf16 --model " + P("m.onnx") + " --images " +
                  P("s/images"));
  unsetenv("ONEDNN_MAX_CPU_ISA");
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("FailedPrecondition: " + P("m.onnx") +
                       ": precision bf16 needs a CPU with AVX512-BF16"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("using opencv"), std::string::npos) << "no silent fallback: " << r.out;
  EXPECT_FALSE(fs::exists(P("noisa"))) << r.out;
  EXPECT_NE(b.code, 0) << b.out;
  EXPECT_NE(b.out.find("needs a CPU with AVX512-BF16"), std::string::npos) << b.out;
}

TEST_F(PrecisionCliTest, WrongPrecisionsAreNamed) {
  auto r = RunVqi("model predict --precision fp16 --model " + P("m.onnx") + " --images " +
                  P("s/images"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("--precision"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fp16"), std::string::npos) << r.out;
  // int8 asks for a QDQ file; this one is float.
  r = RunVqi("model eval --precision int8 --backend onednn --model " + P("m.onnx") + " --images " +
             P("s"));
  EXPECT_NE(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("precision int8 asked for a float model"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("vqi model quantize"), std::string::npos) << r.out;
  // bf16 is oneDNN's; OpenCV says so (when the build has it).
  r = RunVqi("model predict --precision bf16 --backend opencv --model " + P("m.onnx") +
             " --images " + P("s/images"));
  EXPECT_NE(r.code, 0) << r.out;
  if (r.out.find("not built in") == std::string::npos &&
      r.out.find("unknown") == std::string::npos) {
    EXPECT_NE(r.out.find("precision bf16 runs on the onednn backend only"), std::string::npos)
        << r.out;
  }
}

}  // namespace
}  // namespace vqi
