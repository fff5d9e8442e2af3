// A detector as evaluation and `vqi model predict|eval` see it, whatever runs it
// (a libtorch checkpoint in libs/train, an ONNX model in libs/infer).
#pragma once

#include <cstddef>
#include <cstdint>
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

// An image as plain pixels: 8-bit, 3 channels, BGR order (what image decoders produce), rows
// `stride` bytes apart. Borrowed: the caller keeps the pixels alive.
struct ImageView {
  const uint8_t* data = nullptr;
  int width = 0, height = 0;
  size_t stride = 0;  // bytes per row, >= 3 * width
  bool empty() const { return data == nullptr || width <= 0 || height <= 0; }
  const uint8_t* Row(int y) const { return data + static_cast<size_t>(y) * stride; }
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
  // The same on an image already decoded (decode once, then detect and e.g. annotate the same
  // pixels). `name` names the image in messages (and is the key of a predictions file).
  // Unimplemented by default.
  virtual Result<std::vector<Detection>> DetectImage(const ImageView& bgr, const std::string& name,
                                                     const DetectOptions& options) {
    return Unimplemented(Describe() + ": cannot run on decoded pixels (" + name + ")");
  }
  virtual std::vector<std::string> ClassNames() const = 0;
  // e.g. "checkpoint t 480x320", "onnx/opencv 480x320".
  virtual std::string Describe() const = 0;
};

}  // namespace vqi::eval
