// BatchNorm2d followed by SiLU as one operator on channels-last activations, forward and
// backward. Why: libtorch runs them as three passes forward (statistics, normalise, SiLU) and
// three backward (SiLU backward, BatchNorm's two), each over the whole activation, and keeps
// both the convolution output and the normalised tensor for backward; the fused operator makes
// two passes each way and keeps only the convolution output (docs/design/training.md
// "Session 10"). Same results as `torch::silu(bn(x))` to float rounding, including the running
// statistics and `num_batches_tracked`. Private to libs/train.
#pragma once

#include <torch/torch.h>

namespace vqi::train {

// True when BnSilu applies: x is a float [N, C, H, W] tensor, channels-last contiguous.
bool UseBnSilu(const torch::Tensor& x);

// silu(bn(x)) with bn's affine parameters and running statistics; in training mode normalises
// with the batch statistics and updates bn's running mean, variance (unbiased) and
// num_batches_tracked like torch::nn::BatchNorm2d (momentum set). REQUIRES: UseBnSilu(x).
// The result is channels-last. Deterministic: the reductions have a fixed order, whatever the
// number of threads.
torch::Tensor BnSilu(const torch::Tensor& x, torch::nn::BatchNorm2d& bn);

}  // namespace vqi::train
