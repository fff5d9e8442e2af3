// 1x1 convolutions as oneDNN GEMMs against libtorch's convolution, forward and backward.
#include "conv1x1.h"

#include <gtest/gtest.h>

#include "guard.h"

namespace vqi::train {
namespace {

void ExpectMatchesConv2d(const torch::Tensor& x0) {
  torch::manual_seed(3);
  auto w0 = torch::randn({5, x0.size(1), 1, 1});
  auto x1 = x0.detach().clone().requires_grad_(true), w1 = w0.clone().requires_grad_(true);
  auto x2 = x0.detach().clone().requires_grad_(true), w2 = w0.clone().requires_grad_(true);
  auto g = torch::randn({x0.size(0), 5, x0.size(2), x0.size(3)});
  auto y1 = torch::conv2d(x1, w1);
  auto y2 = Conv1x1(x2, w2);
  EXPECT_TRUE(y2.is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(torch::allclose(y1, y2, 1e-4, 1e-5));
  (y1 * g).sum().backward();
  (y2 * g).sum().backward();
  EXPECT_TRUE(torch::allclose(x1.grad(), x2.grad(), 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(w1.grad(), w2.grad(), 1e-4, 1e-4));
}

TEST(Conv1x1Test, MatchesConv2dForwardAndBackward) {
  ExpectMatchesConv2d(torch::randn({3, 6, 7, 9}).contiguous(torch::MemoryFormat::ChannelsLast));
  ExpectMatchesConv2d(torch::randn({2, 4, 5, 3}));  // NCHW input: copied to rows
}

TEST(Conv1x1Test, ChannelSliceOfChannelsLastIsUsedInPlace) {
  // C2f splits a channels-last tensor in two halves along channels: each half is a matrix
  // with rows 8 floats apart.
  auto t = torch::randn({2, 8, 4, 6}).contiguous(torch::MemoryFormat::ChannelsLast);
  auto half = t.chunk(2, 1)[1];
  ASSERT_FALSE(half.is_contiguous(torch::MemoryFormat::ChannelsLast));
  ExpectMatchesConv2d(half);
}

TEST(Conv1x1Test, AppliesWhereLibtorchWouldUseBlas) {
  SetTorchThreads(1);
  auto x = torch::randn({8, 4, 5, 5}).contiguous(torch::MemoryFormat::ChannelsLast);
  EXPECT_TRUE(UseGemm1x1(x, torch::randn({3, 4, 1, 1})));
  EXPECT_FALSE(UseGemm1x1(x, torch::randn({3, 4, 3, 3})));  // 3x3
  EXPECT_FALSE(UseGemm1x1(torch::randn({16, 4, 5, 5}).contiguous(torch::MemoryFormat::ChannelsLast),
                          torch::randn({3, 4, 1, 1})));  // oneDNN at 16 images
  EXPECT_FALSE(UseGemm1x1(torch::randn({8, 4, 5, 5}), torch::randn({3, 4, 1, 1})));  // NCHW
  SetTorchThreads(2);
  EXPECT_FALSE(UseGemm1x1(x, torch::randn({3, 4, 1, 1})));  // oneDNN with 2 threads
  SetTorchThreads(1);
}

}  // namespace
}  // namespace vqi::train
