#include "vqi/onnx/export.h"

#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include "vqi/onnx/weights.h"

namespace vqi::onnx {
namespace {

model::ModelConfig SmallConfig() {
  model::ModelConfig cfg;
  cfg.scale = "t";
  cfg.class_names = {"scratch", "dent's"};
  cfg.input_w = 96;
  cfg.input_h = 64;
  return cfg;
}

TEST(ExpectedWeightsTest, FollowsUltralyticsNames) {
  auto specs = ExpectedWeights(SmallConfig());
  ASSERT_TRUE(specs.ok()) << specs.status().ToString();
  std::map<std::string, std::vector<int64_t>> m;
  for (const auto& s : *specs) m[s.name] = s.shape;
  EXPECT_EQ(m.at("model.0.conv.weight"), (std::vector<int64_t>{8, 3, 3, 3}));
  EXPECT_TRUE(m.count("model.0.bn.running_var"));
  EXPECT_TRUE(m.count("model.2.m.0.cv1.conv.weight"));
  EXPECT_TRUE(m.count("model.9.cv2.conv.weight"));
  EXPECT_EQ(m.at("model.22.cv3.2.2.weight")[0], 2);
  EXPECT_EQ(m.at("model.22.cv2.0.2.bias"), (std::vector<int64_t>{64}));
  EXPECT_EQ(m.at("model.22.dfl.conv.weight"), (std::vector<int64_t>{1, 16, 1, 1}));
}

TEST(ExportTest, IoContractAndMetadata) {
  auto ck = RandomCheckpoint(SmallConfig(), 1);
  ASSERT_TRUE(ck.ok());
  ck->run_id = "run-42";
  ck->split_digest = "sha256:abc";
  ExportOptions opt;
  opt.model_version = "7";
  auto bytes = ExportOnnx(*ck, opt);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto s = CheckOnnx(*bytes, "exported");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->input_name, "images");
  EXPECT_EQ(s->input_shape, (std::vector<int64_t>{1, 3, 64, 96}));
  EXPECT_EQ(s->input_dtype, ::onnx::TensorProto::FLOAT);
  EXPECT_EQ(s->output_name, "output0");
  const int64_t n = (96 / 8) * (64 / 8) + (96 / 16) * (64 / 16) + (96 / 32) * (64 / 32);
  EXPECT_EQ(s->output_shape, (std::vector<int64_t>{1, 6, n}));
  EXPECT_EQ(s->output_dtype, ::onnx::TensorProto::FLOAT);
  EXPECT_EQ(s->opset, kOpset);
  EXPECT_EQ(s->op_counts.count("BatchNormalization"), 0u) << "BatchNorm must be folded";
  EXPECT_GT(s->op_counts["Conv"], 50);
  EXPECT_EQ(s->metadata["names"], "{0: 'scratch', 1: \"dent's\"}");
  EXPECT_EQ(s->metadata["stride"], "32");
  EXPECT_EQ(s->metadata["imgsz"], "[64, 96]");
  EXPECT_EQ(s->metadata["task"], "detect");
  EXPECT_EQ(s->metadata["vqi.run_id"], "run-42");
  EXPECT_EQ(s->metadata["vqi.split_digest"], "sha256:abc");
  EXPECT_EQ(s->metadata["vqi.model_version"], "7");
  EXPECT_EQ(s->metadata["vqi.weights"], "float32");
}

TEST(ExportTest, DeterministicBytes) {
  auto ck = RandomCheckpoint(SmallConfig(), 3);
  ASSERT_TRUE(ck.ok());
  auto a = ExportOnnx(*ck, {});
  auto b = ExportOnnx(*ck, {});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
}

TEST(ExportTest, MissingWeightIsNamed) {
  auto ck = RandomCheckpoint(SmallConfig(), 1);
  ASSERT_TRUE(ck.ok());
  ck->weights.erase("model.4.m.1.cv2.conv.weight");
  auto bytes = ExportOnnx(*ck, {}, "ck.safetensors");
  ASSERT_FALSE(bytes.ok());
  EXPECT_NE(bytes.status().message().find("model.4.m.1.cv2.conv.weight"), std::string::npos);
  EXPECT_NE(bytes.status().message().find("ck.safetensors"), std::string::npos);
}

TEST(ExportTest, WrongShapeIsNamed) {
  auto ck = RandomCheckpoint(SmallConfig(), 1);
  ASSERT_TRUE(ck.ok());
  ck->weights["model.0.bn.weight"].shape = {4};
  auto bytes = ExportOnnx(*ck, {});
  ASSERT_FALSE(bytes.ok());
  EXPECT_NE(bytes.status().message().find("model.0.bn.weight has shape [4]"), std::string::npos);
}

TEST(CheckOnnxTest, RejectsGarbageAndTruncation) {
  auto bad = CheckOnnx("this is not a protobuf \xff\xff\xff", "junk.onnx");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(bad.status().message().find("junk.onnx"), std::string::npos);
  auto ck = RandomCheckpoint(SmallConfig(), 1);
  ASSERT_TRUE(ck.ok());
  auto bytes = ExportOnnx(*ck, {});
  ASSERT_TRUE(bytes.ok());
  auto cut = CheckOnnx(bytes->substr(0, bytes->size() / 2), "cut.onnx");
  EXPECT_FALSE(cut.ok());
  EXPECT_FALSE(CheckOnnx("", "empty.onnx").ok());
}

TEST(CheckOnnxTest, RejectsUnknownOp) {
  auto ck = RandomCheckpoint(SmallConfig(), 1);
  ASSERT_TRUE(ck.ok());
  auto bytes = ExportOnnx(*ck, {});
  ASSERT_TRUE(bytes.ok());
  ::onnx::ModelProto m;
  ASSERT_TRUE(m.ParseFromString(*bytes));
  m.mutable_graph()->mutable_node(3)->set_op_type("FancyAct");
  std::string edited;
  ASSERT_TRUE(m.SerializeToString(&edited));
  auto s = CheckOnnx(edited, "edited.onnx");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("FancyAct"), std::string::npos) << s.status().ToString();
}

}  // namespace
}  // namespace vqi::onnx
