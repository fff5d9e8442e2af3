// The fused YOLOv8 detect decode (FuseDetectDecode, ops/detect_decode.cc): from the box and
// class branch outputs of every level straight to the model output [4 + nc, A] — DFL softmax
// over reg_max bins, expectation, distance-to-box with the anchors, strides and class
// sigmoid — in one loop, instead of ~18 steps (concats, reorders, transpose, softmax, a 1x1
// convolution, six binary ops, the sigmoid). No allocation.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vqi::infer::onednn {

// Upper bound of reg_max the fused decode accepts (YOLOv8: 16); larger heads stay unfused.
constexpr int64_t kMaxDecodeBins = 32;

// One input tensor [1, C, H, W] in any of the backend's layouts: element (c, p), p = h*W + w,
// is at data[(c / cb) * hw * cb + p * ps + c % cb] (plain: cb = ps = 1; nhwc: cb = ps = C;
// nChw16c: cb = ps = 16).
struct DecodeInput {
  const float* data = nullptr;
  int64_t hw = 0, cb = 1, ps = 1;
};

struct DecodeParams {
  int64_t reg_max = 16, nc = 1, anchors = 0;
  const float* dfl_w = nullptr;   // [reg_max] weights of the DFL expectation (0..reg_max-1)
  const float* anchor = nullptr;  // [2, A] anchor centres x, y (grid units)
  const float* half = nullptr;    // [2, A] multiplier of x1 + x2 (0.5)
  const float* stride = nullptr;  // [4, A] multiplier of each output row (the level's stride)
};

// out[4 + nc, A] (row-major): rows 0..3 = (cx, cy, w, h) * stride, rows 4.. = sigmoid(class).
// Level k's anchors follow those of levels 0..k-1. Anchors are independent: the result is the
// same for any thread count (OpenMP-parallel over chunks of anchors when more than one thread).
// REQUIRES: reg_max <= kMaxDecodeBins, sum of box[k].hw == anchors.
void DetectDecode(const DecodeParams& p, const DecodeInput* box, const DecodeInput* cls,
                  size_t levels, float* out);

}  // namespace vqi::infer::onednn
