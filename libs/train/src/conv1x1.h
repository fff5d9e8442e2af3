// 1x1 convolutions of channels-last activations as GEMMs through oneDNN's sgemm, forward and
// backward. Why: for a 1x1, stride-1 convolution on fewer than 16 images with one intra-op
// thread, libtorch 1.13 leaves oneDNN for its own "slow_conv2d", whose GEMM is Debian's
// reference (netlib) BLAS: 73 % of a training epoch with data-parallel replicas went to
// netlib's sgemm_ (docs/design/training.md). Private to libs/train.
#pragma once

#include <torch/torch.h>

namespace vqi::train {

// True when libtorch would run this convolution on its BLAS path and Conv1x1 applies: a 1x1,
// stride-1, ungrouped float convolution, input channels-last (or a channel slice of a
// channels-last tensor), fewer than 16 images, and one intra-op thread on this thread.
bool UseGemm1x1(const torch::Tensor& x, const torch::Tensor& w);

// y = conv2d(x, w) for a 1x1 weight [Co, C, 1, 1] without bias; y is channels-last. Autograd:
// gradients for x and w as GEMMs too. REQUIRES: x float [N, C, H, W], w float [Co, C, 1, 1].
torch::Tensor Conv1x1(const torch::Tensor& x, const torch::Tensor& w);

}  // namespace vqi::train
