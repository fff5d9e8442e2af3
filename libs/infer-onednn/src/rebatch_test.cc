// Batch N (rebatch.h): a batch-1 export compiled for N images gives each image the output it
// gets at batch 1; graphs that would mix images are refused naming the node.
#include <onnx/onnx_pb.h>

#include <cmath>

#include "test_util.h"
#include "testing/qdq.h"
#include "testing/yolo_like.h"
#include "vqi/infer/onednn.h"

namespace vqi::infer::onednn {
namespace {

Result<std::unique_ptr<InferenceBackend>> Open(const std::string& bytes, int batch) {
  onnx::ModelProto m;
  if (!m.ParseFromString(bytes)) return DataLoss("unparsable test model");
  OnednnOptions o;
  o.threads = 2;
  o.batch = batch;
  return OpenOnednnBackend(m, "m.onnx", o);
}

std::string YoloLike(bool int8) {
  model::ModelConfig cfg;
  cfg.scale = "t";
  cfg.input_w = 96;
  cfg.input_h = 64;
  cfg.class_names = {"a", "b"};
  auto bytes = testing::BuildYoloLikeOnnx(cfg, 7, 13);
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  if (!int8) return *bytes;
  auto q = testing::QuantizeToQdq(*bytes);
  EXPECT_TRUE(q.ok()) << q.status().ToString();
  return *q;
}

// Runs 3 different images at batch 1 one by one and at batch 3 at once; returns the largest
// difference between an image's two outputs.
double BatchVsSingle(const std::string& bytes) {
  auto one = Open(bytes, 1);
  auto three = Open(bytes, 3);
  EXPECT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_TRUE(three.ok()) << three.status().ToString();
  if (!one.ok() || !three.ok()) return 1e30;
  const auto& i1 = (*one)->Info();
  const auto& i3 = (*three)->Info();
  EXPECT_EQ(i3.input_shape, (std::vector<int64_t>{3, 3, 64, 96}));
  EXPECT_EQ(i3.output_shape[0], 3);
  EXPECT_EQ(std::vector<int64_t>(i3.output_shape.begin() + 1, i3.output_shape.end()),
            std::vector<int64_t>(i1.output_shape.begin() + 1, i1.output_shape.end()));
  const size_t in = NumElements(i1.input_shape), out = NumElements(i1.output_shape);
  std::vector<float> x(3 * in), y3(3 * out, -1.f), y1(out);
  for (size_t k = 0; k < x.size(); ++k)  // images in [0, 1), each its own
    x[k] = 0.5f + 0.5f * testing::RandomVector(1, static_cast<uint32_t>(k / in) * 7919u + 1)[0] *
                      std::sin(static_cast<float>(k % 977));
  EXPECT_TRUE((*three)->Run(x.data(), y3.data()).ok());
  double worst = 0;
  for (size_t b = 0; b < 3; ++b) {
    EXPECT_TRUE((*one)->Run(x.data() + b * in, y1.data()).ok());
    for (size_t k = 0; k < out; ++k) {
      const double d = std::fabs(double(y3[b * out + k]) - y1[k]);
      worst = std::isnan(d) ? 1e30 : std::max(worst, d);
    }
  }
  return worst;
}

TEST(Rebatch, YoloLikeFp32EachImageAsAtBatch1) {
  const double d = BatchVsSingle(YoloLike(false));
  std::printf("fp32 batch 3 vs batch 1: max |diff| %.3g\n", d);
  EXPECT_LE(d, 1e-4);
}

TEST(Rebatch, YoloLikeInt8EachImageAsAtBatch1) {
  const double d = BatchVsSingle(YoloLike(true));
  std::printf("int8 batch 3 vs batch 1: max |diff| %.3g\n", d);
  EXPECT_LE(d, 1e-4);
}

void ExpectRefused(const std::string& bytes, const std::string& node_op) {
  auto b = Open(bytes, 2);
  ASSERT_FALSE(b.ok());
  const std::string m = b.status().ToString();
  std::printf("%s\n", m.c_str());
  EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument) << m;
  EXPECT_NE(m.find("m.onnx"), std::string::npos) << m;
  EXPECT_NE(m.find("(" + node_op + ")"), std::string::npos) << m;
  EXPECT_NE(m.find("re-batched"), std::string::npos) << m;
  // The same file still opens at batch 1.
  auto one = Open(bytes, 1);
  EXPECT_TRUE(one.ok()) << one.status().ToString();
}

TEST(Rebatch, ReshapeFoldingTheBatchIntoAnotherAxisIsRefused) {
  // [1,3,4,4] -> Reshape [2,3,-1]: the batch is no longer in front.
  ExpectRefused(testing::Model(3, 4, 4,
                               [](testing::OnnxBuilder& b, const std::string& x) {
                                 auto y = b.Op1("Reshape", {x, b.Ints({2, 3, -1})});
                                 return b.Op1("Relu", {y});
                               }),
                "Reshape");
}

TEST(Rebatch, SoftmaxOverTheBatchAxisIsRefused) {
  ExpectRefused(testing::Model(3, 4, 4,
                               [](testing::OnnxBuilder& b, const std::string& x) {
                                 auto y = b.Op1("Reshape", {x, b.Ints({1, 3, -1})});
                                 auto z = b.Op1("Softmax", {y});
                                 b.AttrInt("axis", 0);
                                 return z;
                               }),
                "Softmax");
}

TEST(Rebatch, ConcatWithABatch1ConstantIsRefusedNamingTheNode) {
  ExpectRefused(testing::Model(3, 4, 4,
                               [](testing::OnnxBuilder& b, const std::string& x) {
                                 auto y = b.Op1("Concat", {x, b.Rand({1, 2, 4, 4}, 1.f)});
                                 b.AttrInt("axis", 1);
                                 return b.Op1("Reshape", {y, b.Ints({1, 5, -1})});
                               }),
                "Concat");
}

TEST(Rebatch, BatchOutOfRangeIsRefused) {
  const std::string bytes = YoloLike(false);
  for (int batch : {0, -1, 65}) {
    auto b = Open(bytes, batch);
    ASSERT_FALSE(b.ok());
    EXPECT_NE(b.status().ToString().find("1..64"), std::string::npos) << b.status().ToString();
  }
}

}  // namespace
}  // namespace vqi::infer::onednn
