// A detector as evaluation and `vqi model predict|eval` see it, whatever runs it
// (a libtorch checkpoint in libs/train, an ONNX model in libs/infer).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "vqi/base/status.h"

namespace vqi::eval {

// A detection in original-image pixels (corners), with its confidence and class.
struct Detection {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  float score = 0;
  int class_id = 0;
};

struct DetectOptions {
  float conf_threshold = 0.25f;  // predict default; evaluation uses 0.001
  float iou_threshold = 0.7f;    // NMS IoU
  int max_detections = 300;
  bool class_agnostic = false;
};

// Thread-compatible: one Detect() at a time per instance.
class Detector {
 public:
  virtual ~Detector() = default;
  // Decodes the image file (format from content), runs the model, returns detections after
  // NMS in original-image pixels. Errors name the file (e.g. an image that fails to decode).
  virtual Result<std::vector<Detection>> Detect(const std::string& image_path,
                                                const DetectOptions& options) = 0;
  virtual std::vector<std::string> ClassNames() const = 0;
  // e.g. "checkpoint t 480x320", "onnx/opencv 480x320".
  virtual std::string Describe() const = 0;
};

}  // namespace vqi::eval
