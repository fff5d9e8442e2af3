// Whole-model parity: YOLOv8-like graphs (Ultralytics export structure, random weights) at
// each scale the project uses, compiled vs the naive reference, on small inputs.
#include "test_util.h"
#include "testing/yolo_like.h"

namespace vqi::infer::onednn {
namespace {

void CheckModel(const std::string& scale, int w, int h, int nc, int64_t opset) {
  model::ModelConfig cfg;
  cfg.scale = scale;
  cfg.input_w = w;
  cfg.input_h = h;
  cfg.class_names.clear();
  for (int k = 0; k < nc; ++k) cfg.class_names.push_back("c" + std::to_string(k));
  auto bytes = testing::BuildYoloLikeOnnx(cfg, 7, opset);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  CompareResult r = CompareWithReference(*bytes, 2);
  EXPECT_EQ(r.n, static_cast<size_t>((4 + nc) * model::NumAnchors(cfg)));
  EXPECT_LE(r.max_err, 1e-4) << r.details;
  // The graph is fully on oneDNN primitives: no reference fallbacks.
  EXPECT_EQ(r.details.find("reference"), std::string::npos) << r.details;
}

TEST(OneDnnModel, TinyScaleMatchesReference) { CheckModel("t", 96, 64, 1, 13); }
TEST(OneDnnModel, NanoScaleMatchesReferenceOpset17ThreeClasses) { CheckModel("n", 64, 96, 3, 17); }
TEST(OneDnnModel, Opset11SoftmaxSemantics) { CheckModel("t", 64, 64, 2, 11); }

}  // namespace
}  // namespace vqi::infer::onednn
