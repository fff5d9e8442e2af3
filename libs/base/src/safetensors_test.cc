#include "vqi/base/safetensors.h"

#include <gtest/gtest.h>

namespace vqi {
namespace {

TEST(SafetensorsTest, RoundTripKeepsTensorsAndMetadata) {
  TensorFile f;
  float w[6] = {1, -2, 3.5f, 0, 1e-7f, -1e7f};
  f.tensors["conv.weight"] = Tensor::F32({2, 3}, w);
  f.tensors["a.bias"] = Tensor::F32({1}, w);
  f.metadata["config"] = "{\"scale\":\"n\"}";
  std::string bytes = SerializeSafetensors(f);
  EXPECT_EQ((bytes.size() - 8 - 6 * 4 - 4) % 8, 0u) << "header padded to 8 bytes";
  Result<TensorFile> g = ParseSafetensors(bytes, "mem");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  ASSERT_EQ(g->tensors.size(), 2u);
  const Tensor& t = g->tensors.at("conv.weight");
  EXPECT_EQ(t.shape, (std::vector<int64_t>{2, 3}));
  for (int i = 0; i < 6; ++i) EXPECT_EQ(t.f32()[i], w[i]);
  EXPECT_EQ(g->metadata.at("config"), "{\"scale\":\"n\"}");
}

TEST(SafetensorsTest, TruncatedFileIsDataLoss) {
  TensorFile f;
  float w[4] = {1, 2, 3, 4};
  f.tensors["w"] = Tensor::F32({4}, w);
  std::string bytes = SerializeSafetensors(f);
  Result<TensorFile> g = ParseSafetensors(bytes.substr(0, bytes.size() - 3), "m.safetensors");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(g.status().message().find("m.safetensors: tensor 'w'"), std::string::npos);
  EXPECT_FALSE(ParseSafetensors("abc", "x").ok());
}

}  // namespace
}  // namespace vqi
