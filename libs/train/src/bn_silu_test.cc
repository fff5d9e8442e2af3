// The fused BatchNorm + SiLU against libtorch's BatchNorm2d and silu: values, gradients of the
// input and the affine parameters, running statistics, evaluation mode, determinism across
// thread counts.
#include "bn_silu.h"

#include <gtest/gtest.h>

#include "guard.h"

namespace vqi::train {
namespace {

namespace nn = torch::nn;

nn::BatchNorm2d MakeBn(int64_t c) {
  nn::BatchNorm2d bn(nn::BatchNorm2dOptions(c).eps(1e-3).momentum(0.03));
  torch::NoGradGuard no_grad;
  bn->weight.uniform_(0.5, 1.5);
  bn->bias.uniform_(-0.5, 0.5);
  bn->running_mean.uniform_(-1, 1);
  bn->running_var.uniform_(0.5, 2);
  return bn;
}

nn::BatchNorm2d CopyOf(const nn::BatchNorm2d& bn) {
  return std::dynamic_pointer_cast<nn::BatchNorm2dImpl>(bn->clone());
}

// Activations like a convolution's output: an offset and scale per channel, channels-last.
torch::Tensor Activations(std::vector<int64_t> shape) {
  const int64_t c = shape[1];
  auto x = torch::randn(shape) * torch::rand({1, c, 1, 1}) * 4 + torch::randn({1, c, 1, 1}) * 3;
  return x.contiguous(torch::MemoryFormat::ChannelsLast);
}

void ExpectMatchesLibtorch(std::vector<int64_t> shape) {
  torch::manual_seed(5);
  auto ref = MakeBn(shape[1]);
  auto fused = CopyOf(ref);
  auto x0 = Activations(shape);
  ASSERT_TRUE(UseBnSilu(x0));
  auto x1 = x0.clone().requires_grad_(true), x2 = x0.clone().requires_grad_(true);
  auto g = torch::randn(x0.sizes());
  auto y1 = torch::silu(ref(x1));
  auto y2 = BnSilu(x2, fused);
  EXPECT_TRUE(y2.is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(torch::allclose(y1, y2, 1e-4, 1e-5)) << (y1 - y2).abs().max().item<float>();
  (y1 * g).sum().backward();
  (y2 * g).sum().backward();
  EXPECT_TRUE(torch::allclose(x1.grad(), x2.grad(), 1e-3, 1e-5))
      << (x1.grad() - x2.grad()).abs().max().item<float>();
  EXPECT_TRUE(torch::allclose(ref->weight.grad(), fused->weight.grad(), 1e-3, 1e-3));
  EXPECT_TRUE(torch::allclose(ref->bias.grad(), fused->bias.grad(), 1e-3, 1e-3));
  EXPECT_TRUE(torch::allclose(ref->running_mean, fused->running_mean, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(ref->running_var, fused->running_var, 1e-5, 1e-6));
  EXPECT_EQ(ref->num_batches_tracked.item<int64_t>(), fused->num_batches_tracked.item<int64_t>());

  // Evaluation mode: the running statistics, no gradient.
  ref->eval();
  fused->eval();
  torch::NoGradGuard no_grad;
  auto e1 = torch::silu(ref(x0)), e2 = BnSilu(x0, fused);
  EXPECT_TRUE(torch::allclose(e1, e2, 1e-4, 1e-5)) << (e1 - e2).abs().max().item<float>();
}

TEST(BnSiluTest, MatchesBatchNormAndSilu) {
  ExpectMatchesLibtorch({4, 16, 24, 20});  // several reduction chunks
  ExpectMatchesLibtorch({2, 3, 5, 7});     // one partial chunk, odd channel count
  ExpectMatchesLibtorch({3, 64, 2, 2});    // deep layer: few rows, many channels
}

TEST(BnSiluTest, LargeMeanKeepsPrecision) {
  // A channel whose mean is 500x its spread: the statistics must not cancel. Reference in
  // double precision.
  torch::manual_seed(11);
  auto bn = MakeBn(8);
  auto x = (torch::randn({4, 8, 16, 16}) * 0.2 + 100).contiguous(torch::MemoryFormat::ChannelsLast);
  auto y = BnSilu(x, bn);
  auto xd = x.to(torch::kDouble);
  auto mean = xd.mean({0, 2, 3}, true), var = xd.var({0, 2, 3}, false, true);
  auto z =
      (xd - mean) / torch::sqrt(var + 1e-3) * bn->weight.to(torch::kDouble).view({1, 8, 1, 1}) +
      bn->bias.to(torch::kDouble).view({1, 8, 1, 1});
  auto ref = (z * torch::sigmoid(z)).to(torch::kFloat);
  EXPECT_TRUE(torch::allclose(y, ref, 1e-4, 1e-4)) << (y - ref).abs().max().item<float>();
}

TEST(BnSiluTest, LargeActivationsSaturate) {
  // |z| far beyond the exponential's range: silu(z) = z for large z and -> 0 for very negative.
  auto bn = MakeBn(2);
  bn->eval();
  {
    torch::NoGradGuard no_grad;
    bn->weight.fill_(1);
    bn->bias.zero_();
    bn->running_mean.zero_();
    bn->running_var.fill_(1 - 1e-3);
  }
  auto x = torch::tensor({-200.0f, 200.0f, -30.0f, 30.0f}).reshape({1, 2, 1, 2});
  x = x.contiguous(torch::MemoryFormat::ChannelsLast);
  torch::NoGradGuard no_grad;
  auto y = BnSilu(x, bn), ref = torch::silu(x);
  EXPECT_TRUE(torch::all(torch::isfinite(y)).item<bool>());
  EXPECT_TRUE(torch::allclose(y, ref, 1e-5, 1e-6)) << y << ref;
}

TEST(BnSiluTest, SameResultsWithOneOrTwoThreads) {
  auto run = [](int threads) {
    SetTorchThreads(threads);
    torch::manual_seed(9);
    auto bn = MakeBn(32);
    auto x = Activations({8, 32, 40, 30}).requires_grad_(true);
    auto y = BnSilu(x, bn);
    (y * y).sum().backward();
    return std::vector<torch::Tensor>{y.detach(), x.grad(), bn->weight.grad(),
                                      bn->running_var.clone()};
  };
  auto one = run(1), two = run(2);
  SetTorchThreads(1);
  for (size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(torch::equal(one[i], two[i])) << i;
}

TEST(BnSiluTest, AppliesOnlyToChannelsLastFloat) {
  EXPECT_TRUE(UseBnSilu(torch::randn({2, 3, 4, 5}).contiguous(torch::MemoryFormat::ChannelsLast)));
  EXPECT_FALSE(UseBnSilu(torch::randn({2, 3, 4, 5})));  // NCHW
  EXPECT_FALSE(UseBnSilu(
      torch::randn({2, 3, 4, 5}, torch::kDouble).contiguous(torch::MemoryFormat::ChannelsLast)));
  auto half = torch::randn({2, 8, 4, 5}).contiguous(torch::MemoryFormat::ChannelsLast).chunk(2, 1);
  EXPECT_FALSE(UseBnSilu(half[0]));  // a channel slice: not one [M, C] matrix
}

}  // namespace
}  // namespace vqi::train
