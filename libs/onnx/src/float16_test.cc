#include "vqi/onnx/float16.h"

#include <gtest/gtest.h>

#include <cmath>

#include "vqi/onnx/export.h"
#include "vqi/onnx/weights.h"

namespace vqi::onnx {
namespace {

TEST(HalfTest, RoundTripsRepresentableValues) {
  for (float f : {0.f, -0.f, 1.f, -2.5f, 65504.f, 0.000061035156f, 5.9604645e-08f, 1023.5f})
    EXPECT_EQ(HalfToFloat(FloatToHalf(f)), f) << f;
  EXPECT_EQ(FloatToHalf(1e6f), 0x7c00);  // overflow -> +inf
  EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(NAN))));
}

TEST(HalfTest, RoundsToNearestWithinHalfUlp) {
  for (float f = -3.f; f < 3.f; f += 0.001237f) {
    const float r = HalfToFloat(FloatToHalf(f));
    EXPECT_LE(std::fabs(r - f), std::fabs(f) * (1.f / 2048.f) + 3e-8f) << f;
  }
  EXPECT_EQ(FloatToHalf(1.f + 1.f / 2048.f), FloatToHalf(1.f));  // tie -> even
}

TEST(Float16Test, HalvesWeightBytesAndKeepsContract) {
  model::ModelConfig cfg;
  cfg.input_w = 64;
  cfg.input_h = 64;
  auto ck = RandomCheckpoint(cfg, 5);
  ASSERT_TRUE(ck.ok());
  auto fp32 = ExportOnnx(*ck, {});
  ASSERT_TRUE(fp32.ok());
  auto fp16 = ConvertWeightsToFloat16(*fp32, "m.onnx");
  ASSERT_TRUE(fp16.ok()) << fp16.status().ToString();
  auto s = CheckOnnx(*fp16, "m16.onnx");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->input_name, "images");
  EXPECT_EQ(s->output_name, "output0");
  EXPECT_EQ(s->metadata["vqi.weights"], "float16");
  EXPECT_GT(s->initializer_bytes["FLOAT16"], 0);
  const double ratio = static_cast<double>(fp16->size()) / static_cast<double>(fp32->size());
  EXPECT_LT(ratio, 0.6);
  EXPECT_GT(ratio, 0.45);
  auto again = ConvertWeightsToFloat16(*fp16, "m16.onnx");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->size(), fp16->size());
}

}  // namespace
}  // namespace vqi::onnx
