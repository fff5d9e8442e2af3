// Softmax over a non-innermost axis of a plain tensor: data viewed as [outer, len, inner],
// normalized over `len` for each (outer, inner). Loops run over the contiguous inner
// dimension (vectorizable), split across the OpenMP threads; no allocation.
#pragma once

#include <cstdint>

namespace vqi::infer::onednn {

void SoftmaxStrided(const float* in, float* out, int64_t outer, int64_t len, int64_t inner);

}  // namespace vqi::infer::onednn
