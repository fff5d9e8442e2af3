// Parity on models written by our exporter (libs/onnx): fp32 and float16-weights variants,
// compiled oneDNN program vs the naive reference.
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "test_util.h"
#include "vqi/infer/observe.h"
#include "vqi/onnx/export.h"
#include "vqi/onnx/float16.h"
#include "vqi/onnx/quantize.h"
#include "vqi/onnx/weights.h"

namespace vqi::infer::onednn {
namespace {

std::string Exported(const std::string& scale, int w, int h, bool fp16) {
  model::ModelConfig cfg;
  cfg.scale = scale;
  cfg.input_w = w;
  cfg.input_h = h;
  auto ckpt = vqi::onnx::RandomCheckpoint(cfg, 3);
  EXPECT_TRUE(ckpt.ok()) << ckpt.status().ToString();
  vqi::onnx::ExportOptions o;
  o.float16_weights = fp16;
  auto bytes = vqi::onnx::ExportOnnx(*ckpt, o);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return bytes.ok() ? *bytes : "";
}

TEST(OneDnnExportParity, TinyScaleFp32) {
  for (int threads : {1, 2}) {
    CompareResult r = CompareWithReference(Exported("t", 160, 96, false), threads);
    EXPECT_GT(r.n, 0u);
    EXPECT_LE(r.max_err, 1e-4) << r.details;
    EXPECT_EQ(r.details.find("reference"), std::string::npos) << r.details;
    // Our exporter's head (4-D, Slices, Mul by "half") is one fused decode step (nhwc inputs).
    EXPECT_NE(r.details.find("decode=vqi:detect_decodex1"), std::string::npos) << r.details;
    EXPECT_EQ(r.details.find("softmax="), std::string::npos) << r.details;
    EXPECT_EQ(r.details.find("binary="), std::string::npos) << r.details;
  }
}

TEST(OneDnnExportParity, NanoScaleFloat16Weights) {
  CompareResult r = CompareWithReference(Exported("n", 96, 128, true), 2);
  EXPECT_GT(r.n, 0u);
  EXPECT_LE(r.max_err, 1e-4) << r.details;
  // The fused decode reads the nChw16c branch outputs directly.
  EXPECT_NE(r.details.find("layout=nChw16c"), std::string::npos) << r.details;
  EXPECT_NE(r.details.find("decode=vqi:detect_decodex1"), std::string::npos) << r.details;
}

// The real quantizer's QDQ output (vqi model quantize's library path, calibrated with the
// TensorObserver on two synthetic images) runs its convs as int8 and stays within the
// whole-graph bound of qdq_test.cc against the reference on the same QDQ file.
TEST(OneDnnExportParity, QuantizedByVqiModelQuantizeRunsInt8) {
  std::string fp32 = Exported("t", 160, 96, false);
  auto plan = vqi::onnx::PlanQuantization(fp32, "t.onnx");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  auto path = std::filesystem::temp_directory_path() /
              ("vqi_qparity_" + std::to_string(::getpid()) + ".onnx");
  FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fwrite(fp32.data(), 1, fp32.size(), f);
  std::fclose(f);
  auto obs = OpenTensorObserver(path.string(), plan->Activations(), 2);
  std::filesystem::remove(path);
  ASSERT_TRUE(obs.ok()) << obs.status().ToString();
  vqi::onnx::ActivationRanges ranges;
  for (uint32_t seed : {1u, 2u}) {
    std::vector<float> img = testing::RandomVector(NumElements((*obs)->InputShape()), seed);
    for (float& v : img) v = (v + 1.f) * 0.5f;
    ASSERT_TRUE((*obs)
                    ->Run(img.data(), [&](const std::string& n, const float* d,
                                          int64_t c) { ranges.Observe(n, d, c); })
                    .ok());
  }
  vqi::onnx::QuantizeOptions qo;
  auto scales = vqi::onnx::GroupScales(*plan, ranges, qo);
  ASSERT_TRUE(scales.ok()) << scales.status().ToString();
  auto qdq = vqi::onnx::WriteQdqModel(fp32, "t.onnx", *plan, *scales, qo);
  ASSERT_TRUE(qdq.ok()) << qdq.status().ToString();

  auto g = LoadOnnxGraph(*qdq, "t.int8.onnx");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  std::vector<float> in = testing::RandomVector(NumElements(g->tensors[g->input].shape), 3);
  for (float& v : in) v = (v + 1.f) * 0.5f;
  std::vector<float> ref;
  ASSERT_TRUE(RefRun(*g, in.data(), &ref).ok());
  Graph opt = *g;
  ASSERT_TRUE(OptimizeGraph(&opt).ok());
  auto m = Compile(std::move(opt), {.threads = 2});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  std::vector<float> got(ref.size());
  ASSERT_TRUE((*m)->Run(in.data(), got.data()).ok());
  double range = 0, sum = 0, worst = 0;
  for (float v : ref) range = std::max(range, std::fabs(double(v)));
  for (size_t k = 0; k < got.size(); ++k) {
    double d = std::fabs(double(got[k]) - ref[k]);
    sum += d;
    worst = std::max(worst, d);
  }
  EXPECT_LE(worst, 0.05 * range) << "mean " << sum / got.size();
  EXPECT_LE(sum / got.size(), 0.005 * range) << "worst " << worst;
  std::string details = (*m)->Details();
  EXPECT_NE(details.find("conv_s8="), std::string::npos) << details;
  EXPECT_EQ(details.find("ref_int8"), std::string::npos) << details;
  EXPECT_EQ(details.find("reference"), std::string::npos) << details;
}

}  // namespace
}  // namespace vqi::infer::onednn
