// Limits of the oneDNN backend on what a model file may claim, enforced before anything is
// allocated. One place in code; documented in docs/limits.md ("oneDNN backend"). Hitting one is
// ResourceExhausted naming the file and the tensor, node or graph at fault.
#pragma once

#include <cstdint>

namespace vqi::infer::onednn {

// Appended to every limit's message.
inline constexpr const char* kLimitsDoc = " (see docs/limits.md, oneDNN backend)";

// Elements of any one tensor (initializer, graph input, inferred intermediate): 256 Mi, i.e.
// 1 GiB as float32. The largest tensor of a YOLOv8x at 1280x1280 holds 26 Mi elements.
constexpr int64_t kMaxTensorElements = int64_t{1} << 28;
// Bytes of all constants computed by folding at load (Shape/Expand/ConstantOfShape chains,
// fp16 casts): 2 GiB.
constexpr int64_t kMaxFoldedBytes = int64_t{2} << 30;
// Bytes of the planned activation arena: 4 GiB (n@640 needs 10.4 MB).
constexpr int64_t kMaxArenaBytes = int64_t{4} << 30;
// Nodes in the graph: 20,000 (YOLOv8x exports ~600); the passes are at worst quadratic in it.
constexpr int kMaxNodes = 20000;
// Tensor rank (the reference kernels keep per-axis state on the stack).
constexpr int kMaxTensorRank = 8;
// Kernel size, stride and dilation of a convolution or pooling window.
constexpr int64_t kMaxWindow = 1 << 16;

}  // namespace vqi::infer::onednn
