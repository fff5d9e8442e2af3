// Parity on models written by our exporter (libs/onnx): fp32 and float16-weights variants,
// compiled oneDNN program vs the naive reference.
#include "onednn/test_util.h"
#include "vqi/onnx/export.h"
#include "vqi/onnx/float16.h"
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
  CompareResult r = CompareWithReference(Exported("t", 160, 96, false), 2);
  EXPECT_GT(r.n, 0u);
  EXPECT_LE(r.max_err, 1e-4) << r.details;
  EXPECT_EQ(r.details.find("reference"), std::string::npos) << r.details;
}

TEST(OneDnnExportParity, NanoScaleFloat16Weights) {
  CompareResult r = CompareWithReference(Exported("n", 96, 128, true), 2);
  EXPECT_GT(r.n, 0u);
  EXPECT_LE(r.max_err, 1e-4) << r.details;
}

}  // namespace
}  // namespace vqi::infer::onednn
