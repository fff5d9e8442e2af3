// The output side of the YOLO contract: `output0` is float [4 + nc, N] row-major per image
// (cx, cy, w, h in input pixels, then one sigmoid score per class), decoded as Ultralytics does
// (best class per anchor, score >= conf), mapped back through the letterbox to original pixels
// and clipped to the image; and the class names a model file carries in its metadata.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/eval/detector.h"
#include "vqi/yolo/letterbox.h"

namespace vqi::yolo {

struct Decoded {
  std::vector<eval::Detection> candidates;  // before NMS, in anchor order
  // Anchors whose best score or box is inf/NaN: left out of `candidates`. A model that emits
  // them is broken; callers refuse its result (see CheckFinite).
  int64_t non_finite = 0;
};

Decoded DecodeOutput(const float* out, int nc, int64_t n, const Letterbox& lb, float conf);

// DataLoss naming `where` and the count when `d.non_finite` > 0, else OK.
Status CheckFinite(const Decoded& d, int64_t anchors, const std::string& where);

// Class names from a model's metadata: `vqi.class_names` (JSON array) or Ultralytics' `names`
// ("{0: 'scratch', 1: \"dent's\"}"). InvalidArgument when neither parses.
Result<std::vector<std::string>> ClassNamesFromMetadata(
    const std::map<std::string, std::string>& metadata);

}  // namespace vqi::yolo
