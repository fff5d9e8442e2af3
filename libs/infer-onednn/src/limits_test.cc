// Hostile models (issue 16): sizes claimed by the file are bounded before anything is
// allocated (ResourceExhausted naming the tensor or node), huge graphs and windows are refused,
// and a graph listed in reverse order still sorts in linear time.
#include <onnx/onnx_pb.h>

#include <chrono>

#include "onednn_limits.h"
#include "test_util.h"

namespace vqi::infer::onednn {
namespace {

using testing::OnnxBuilder;

Status Prepare(const std::string& bytes) {
  auto g = LoadOnnxGraph(bytes, "hostile.onnx");
  if (!g.ok()) return g.status();
  VQI_RETURN_IF_ERROR(OptimizeGraph(&*g));
  auto m = Compile(std::move(*g), {.threads = 1});
  return m.ok() ? Status::Ok() : m.status();
}

void ExpectExhausted(const std::string& bytes, const std::string& needle) {
  Status st = Prepare(bytes);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_NE(st.message().find(needle), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find(std::to_string(kMaxTensorElements)), std::string::npos)
      << st.ToString();
}

TEST(OneDnnLimits, GraphInputClaimingHugeDimsIsRefusedBeforeAllocation) {
  OnnxBuilder b;
  std::string x = b.Input("images", {1, 3, 100000, 100000});
  b.Output(b.Op1("Relu", {x}));
  ExpectExhausted(b.Serialize(), "input 'images'");
}

TEST(OneDnnLimits, InputDimsWhoseProductOverflowsInt64) {
  OnnxBuilder b;
  int64_t big = int64_t{1} << 40;
  std::string x = b.Input("images", {1, big, big, big});
  b.Output(b.Op1("Relu", {x}));
  ExpectExhausted(b.Serialize(), "input 'images'");
}

TEST(OneDnnLimits, InitializerClaimingHugeDims) {
  OnnxBuilder b;
  std::string x = b.Input("images", {1, 3, 8, 8});
  std::string w = b.Rand({4, 3, 3, 3}, 1);
  auto* init = b.model().mutable_graph()->mutable_initializer(0);
  init->clear_dims();
  for (int64_t d : {int64_t{1} << 20, int64_t{1} << 20, int64_t{3}, int64_t{3}}) init->add_dims(d);
  b.Output(b.Op1("Conv", {x, w}));
  ExpectExhausted(b.Serialize(), "initializer '" + w + "'");
}

TEST(OneDnnLimits, FoldedTensorClaimingHugeDimsNamesTheTensor) {
  // Expand of a small input to a shape of 2^34 elements, from a constant shape.
  OnnxBuilder b;
  std::string x = b.Input("images", {1, 3, 8, 8});
  std::string big = b.Op1("Expand", {x, b.Ints({1 << 22, 3, 8, 8})});
  b.Output(b.Op1("Relu", {big}));
  ExpectExhausted(b.Serialize(), "output '" + big + "'");

  OnnxBuilder c;  // ConstantOfShape: every dim allowed alone, the product is not
  x = c.Input("images", {1, 3, 8, 8});
  std::string filled = c.Op1("ConstantOfShape", {c.Ints({1 << 20, 1 << 20})});
  c.Output(c.Op1("Add", {x, filled}));
  ExpectExhausted(c.Serialize(), "output '" + filled + "'");
}

TEST(OneDnnLimits, WindowAttributesOutOfRange) {
  for (const char* attr : {"strides", "dilations"}) {
    OnnxBuilder b;
    std::string x = b.Input("images", {1, 3, 8, 8});
    std::string y = b.Op1("MaxPool", {x});
    b.AttrInts({2, 2}, "kernel_shape");
    b.AttrInts({int64_t{1} << 40, 1}, attr);
    b.Output(y);
    Status st = Prepare(b.Serialize());
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << attr << ": " << st.ToString();
    EXPECT_NE(st.message().find("at most " + std::to_string(kMaxWindow)), std::string::npos)
        << st.ToString();
  }
}

TEST(OneDnnLimits, TooManyNodes) {
  OnnxBuilder b;
  std::string x = b.Input("images", {1, 3, 2, 2});
  for (int k = 0; k <= kMaxNodes; ++k) x = b.Op1("Relu", {x});
  b.Output(x);
  Status st = Prepare(b.Serialize());
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_NE(st.message().find("above the limit of " + std::to_string(kMaxNodes)), std::string::npos)
      << st.ToString();
}

TEST(OneDnnLimits, ReverseOrderedGraphSortsInLinearTime) {
  // 5000 nodes listed consumer-first: the earlier sweep-based sort took quadratic time.
  OnnxBuilder b;
  std::string x = b.Input("images", {1, 3, 2, 2});
  for (int k = 0; k < 5000; ++k) x = b.Op1(k % 2 ? "Relu" : "Neg", {x});
  b.Output(x);
  auto* nodes = b.model().mutable_graph()->mutable_node();
  for (int i = 0, j = nodes->size() - 1; i < j; ++i, --j) nodes->SwapElements(i, j);
  auto t0 = std::chrono::steady_clock::now();
  auto g = LoadOnnxGraph(b.Serialize(), "reversed.onnx");
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_EQ(g->nodes.size(), 5000u);
  for (size_t k = 1; k < g->nodes.size(); ++k)  // each node reads the previous one's output
    ASSERT_EQ(g->nodes[k].in[0], g->nodes[k - 1].out[0]) << k;
  EXPECT_LT(s, 2.0);
}

TEST(OneDnnLimits, ArenaAboveTheLimit) {
  // Every tensor below the per-tensor limit, but 24 of them live at once: > 4 GiB of arena.
  OnnxBuilder b;
  std::string x = b.Input("images", {1, 1, 8192, 8192});  // 64 Mi elements, 256 MiB
  std::vector<std::string> live;
  for (int k = 0; k < 20; ++k) live.push_back(b.Op1("Neg", {x}));
  std::string acc = live[0];
  for (int k = 1; k < 20; ++k) acc = b.Op1("Add", {acc, live[k]});
  b.Output(acc);
  Status st = Prepare(b.Serialize());
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.ToString();
  EXPECT_NE(st.message().find("activation arena"), std::string::npos) << st.ToString();
}

}  // namespace
}  // namespace vqi::infer::onednn
