// Non-maximum suppression over detections from any model.
#pragma once

#include <span>
#include <vector>

#include "vqi/eval/detector.h"

namespace vqi::eval {

struct NmsOptions {
  float iou_threshold = 0.7f;   // a candidate is dropped when IoU > this with a kept box
  int max_detections = 300;     // <= 0: no limit
  bool class_agnostic = false;  // true: boxes of different classes suppress each other too
};

// Intersection over union of two corner boxes; 0 when the union is empty (degenerate boxes).
float IoU(const Detection& a, const Detection& b);

// Greedy NMS: candidates are visited by score (descending; ties keep input order) and a
// candidate is kept unless it overlaps an already kept box (of its class, unless
// class_agnostic) by IoU > iou_threshold. Stops after max_detections kept boxes, so the
// result equals per-class NMS followed by taking the top max_detections by score.
// Candidates with a NaN score are never kept. Returns indices into `candidates`, highest
// score first. O(n log n + n * kept).
std::vector<int> NmsIndices(std::span<const Detection> candidates, const NmsOptions& options);

// The kept detections themselves, highest score first.
std::vector<Detection> Nms(std::span<const Detection> candidates, const NmsOptions& options);

// What a Detector does after decoding: drops candidates with score < conf_threshold, then NMS
// with the IoU / max-detections / class-agnostic settings of `options`.
std::vector<Detection> FilterAndNms(std::span<const Detection> candidates,
                                    const DetectOptions& options);

}  // namespace vqi::eval
