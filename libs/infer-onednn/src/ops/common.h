// Helpers shared by the operator files (src/ops/*.cc): argument reading, axis normalization,
// windows, broadcasting and strided copies of the reference kernels. Private to the backend.
#pragma once

#include <string>
#include <vector>

#include "ops.h"

namespace vqi::infer::onednn::internal {

inline Status NodeError(const Node& n, const std::string& msg) {
  return InvalidArgument(n.Where() + ": " + msg);
}

// InvalidArgument unless input `k`, when present, is float.
Status NeedFloat(const Node& n, const std::vector<InValue>& in, size_t k);

// An input as the ops see it: shape and type of `t`, with its data when it is a constant.
InValue ViewOf(const Tensor& t);

// Normalizes a possibly negative axis; false if out of range.
bool NormAxis(int64_t* axis, int64_t rank);

// Integer data of an input (int64 constants; float constants are truncated).
bool ReadInts(const InValue& v, std::vector<int64_t>* out);
bool ReadFloats(const InValue& v, std::vector<float>* out);

// Conv/MaxPool geometry for 2-D spatial ops. Kernel, strides and dilations are bounded by
// kMaxWindow (onednn_limits.h), so the arithmetic below cannot overflow.
struct Window {
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pt = 0, pl = 0, pb = 0, pr = 0;
  int64_t oh = 0, ow = 0;
};
Status ComputeWindow(const Node& n, int64_t h, int64_t w, int64_t kh, int64_t kw, bool ceil_mode,
                     Window* win);

bool Broadcast(const Shape& a, const Shape& b, Shape* out);

// Slice parameters normalized per axis of the input (start, step, count).
struct SliceAxis {
  int64_t start = 0, step = 1, count = 0;
};

// The normalized parameters of a Slice node (constant starts/ends/axes/steps, any opset), one
// per axis of input 0; an error naming the node when they cannot be resolved statically.
Status ComputeSlice(const Node& n, int64_t opset, const std::vector<InValue>& in,
                    std::vector<SliceAxis>* axes);

// Reference-kernel building blocks (plain row-major; rank <= kMaxTensorRank).
constexpr int kMaxRank = 8;
void RowStrides(const Shape& s, int64_t* st);
std::vector<int64_t> RowStrides(const Shape& s);
// Row-major strides of `s` aligned to `target` (stride 0 on broadcast dims).
void BroadcastStrides(const Shape& s, const Shape& target, int64_t* st);
// out[k] = in[offset + sum(coord_d * st_d)] over the output shape, float or int64 data.
void CopyView(const InValue& in, const Shape& os, const int64_t* st, int64_t offset, OutValue& o);

}  // namespace vqi::infer::onednn::internal
