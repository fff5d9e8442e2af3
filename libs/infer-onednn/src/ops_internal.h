// Helpers shared by ops_shape.cc and ops_ref.cc (private to the ops).
#pragma once

#include <vector>

#include "ops.h"

namespace vqi::infer::onednn::internal {

inline Status NodeError(const Node& n, const std::string& msg) {
  return InvalidArgument(n.Where() + ": " + msg);
}

// Normalizes a possibly negative axis; false if out of range.
bool NormAxis(int64_t* axis, int64_t rank);

// Integer data of an input (int64 constants; float constants are truncated).
bool ReadInts(const InValue& v, std::vector<int64_t>* out);
bool ReadFloats(const InValue& v, std::vector<float>* out);

// Conv/MaxPool geometry for 2-D spatial ops.
struct Window {
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pt = 0, pl = 0, pb = 0, pr = 0;
  int64_t oh = 0, ow = 0;
};
Status ComputeWindow(const Node& n, int64_t h, int64_t w, int64_t kh, int64_t kw, bool ceil_mode,
                     Window* win);

// Slice parameters normalized per axis of the input (start, step, count).
struct SliceAxis {
  int64_t start = 0, step = 1, count = 0;
};
Status ComputeSlice(const Node& n, int64_t opset, const std::vector<InValue>& in,
                    std::vector<SliceAxis>* axes);

// Split sizes along the (normalized) axis.
Status ComputeSplit(const Node& n, int64_t opset, const std::vector<InValue>& in, int64_t* axis,
                    std::vector<int64_t>* sizes);

// Resize: per-axis scales (out/in) and output shape.
Status ComputeResize(const Node& n, int64_t opset, const std::vector<InValue>& in,
                     std::vector<float>* scales, Shape* out);

// Axes for Squeeze/Unsqueeze (attribute before opset 13, input after), not normalized.
bool SqueezeAxes(const Node& n, int64_t opset, const std::vector<InValue>& in,
                 std::vector<int64_t>* axes, bool* given);

bool Broadcast(const Shape& a, const Shape& b, Shape* out);

}  // namespace vqi::infer::onednn::internal
