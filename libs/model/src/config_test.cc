#include "vqi/model/config.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "vqi/model/checkpoint.h"

namespace vqi::model {
namespace {

TEST(ModelConfigTest, PlanMatchesUltralyticsYolov8n) {
  ModelConfig cfg;
  cfg.scale = "n";
  cfg.class_names = std::vector<std::string>(80, "c");
  cfg.input_w = cfg.input_h = 640;
  Result<std::vector<Layer>> plan = Plan(cfg);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  const auto& L = *plan;
  ASSERT_EQ(L.size(), 23u);
  // yolov8n: 16, 32, C2f32(n1), 64, C2f64(n2), 128, C2f128(n2), 256, C2f256(n1), SPPF256.
  EXPECT_EQ(L[0].c_out, 16);
  EXPECT_EQ(L[2].n, 1);
  EXPECT_EQ(L[4].n, 2);
  EXPECT_EQ(L[9].c_out, 256);
  EXPECT_EQ(L[11].c_in, 256 + 128);
  EXPECT_EQ(L[15].c_out, 64);
  EXPECT_EQ(L[22].detect_ch, (std::vector<int>{64, 128, 256}));
  EXPECT_EQ(L[22].head_c2, 64);
  EXPECT_EQ(L[22].head_c3, 80);
  EXPECT_EQ(NumAnchors(cfg), 8400);
}

TEST(ModelConfigTest, TinyScaleAndValidation) {
  ModelConfig cfg;  // t, 480x320, 1 class
  auto plan = Plan(cfg);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ((*plan)[0].c_out, 8);
  EXPECT_EQ((*plan)[22].head_c2, 64);
  EXPECT_EQ((*plan)[22].head_c3, 32);
  EXPECT_EQ(NumAnchors(cfg), 60 * 40 + 30 * 20 + 15 * 10);
  cfg.input_w = 450;
  EXPECT_EQ(cfg.Validate().code(), StatusCode::kInvalidArgument);
  cfg.input_w = 480;
  cfg.scale = "q";
  EXPECT_NE(cfg.Validate().message().find("unknown model scale 'q'"), std::string::npos);
}

TEST(CheckpointTest, RoundTripAndRejectsForeignFiles) {
  namespace fs = std::filesystem;
  std::string dir = (fs::temp_directory_path() / ("vqi_ckpt_" + std::to_string(getpid()))).string();
  Checkpoint c;
  c.model.class_names = {"scratch", "dent"};
  c.split_digest = "abc";
  c.metrics = {{"map50", 0.9}};
  c.epoch = 7;
  float w[2] = {1.5f, -2};
  c.weights["model.0.conv.weight"] = Tensor::F32({2}, w);
  ASSERT_TRUE(WriteCheckpoint(dir + "/c.safetensors", c).ok());
  auto r = ReadCheckpoint(dir + "/c.safetensors");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->model.class_names, c.model.class_names);
  EXPECT_EQ(r->metrics["map50"], 0.9);
  EXPECT_EQ(r->epoch, 7);
  EXPECT_EQ(r->weights.at("model.0.conv.weight").f32()[1], -2);
  TensorFile plain;
  ASSERT_TRUE(WriteSafetensors(dir + "/p.safetensors", plain).ok());
  auto bad = ReadCheckpoint(dir + "/p.safetensors");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vqi::model
