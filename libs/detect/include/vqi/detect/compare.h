// Comparing two ONNX variants of one model (float32 vs float16 weights, `vqi model optimize`):
// how far their raw outputs drift and how many detections survive, on the same decoded pixels.
#pragma once

#include <cstdint>
#include <string>

#include "vqi/base/status.h"
#include "vqi/detect/open.h"

namespace vqi::detect {

struct OutputDrift {
  size_t images = 0;
  double max_abs_box_diff_px = 0;  // over output0's box rows
  double max_abs_score_diff = 0;   // over its score rows
  int64_t detections_before = 0;   // of `before` at conf 0.25
  int64_t detections_matched = 0;  // of those, found by `after` (same class, IoU > 0.9)
};

// Runs both models on every image of the folder `images` (each decoded once). Errors: the
// models do not open, their outputs differ in shape, an image fails.
Result<OutputDrift> CompareOutputs(const std::string& before, const std::string& after,
                                   const std::string& images, const ModelOptions& model);

}  // namespace vqi::detect
