// Pre- and post-processing shared by every backend (the Ultralytics YOLOv8 conventions):
// decode by content, letterbox with gray 114 (centered, scale-up allowed), RGB planes / 255,
// and the inverse mapping of `output0` boxes back to original-image pixels.
#pragma once

#include <map>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/eval/detector.h"

namespace vqi::infer {

// Decodes an image file by its content (JPEG, PNG, BMP, TIFF, WebP, ... whatever the extension)
// to 8-bit BGR. NotFound for a missing file; InvalidArgument naming the file when the bytes do
// not decode.
Result<cv::Mat> DecodeImageFile(const std::string& path);
Result<cv::Mat> DecodeImageBytes(const std::string& bytes, const std::string& where);

// How an image was placed into the model input.
struct Letterbox {
  double scale = 1;               // input pixels per original pixel
  double pad_x = 0, pad_y = 0;    // left / top padding in input pixels
  int src_w = 0, src_h = 0;       // original image size
};

// Letterboxes `bgr` into a `w` x `h` input and writes RGB / 255 planes (NCHW, 3*h*w floats) to
// `out`. `scratch` is reused between calls to avoid allocation.
Letterbox LetterboxToTensor(const cv::Mat& bgr, int w, int h, float* out, cv::Mat* scratch);

// Decodes one `output0` ([4 + nc, n] row-major: cx, cy, w, h, class scores) into candidates in
// original-image pixels (clipped) with best-class score >= conf, as Ultralytics does.
std::vector<eval::Detection> DecodeOutput(const float* out, int nc, int64_t n,
                                          const Letterbox& lb, float conf);

// Class names from a model's metadata: `vqi.class_names` (JSON array) or Ultralytics' `names`
// ("{0: 'scratch', 1: \"dent's\"}"). InvalidArgument when neither parses.
Result<std::vector<std::string>> ClassNamesFromMetadata(
    const std::map<std::string, std::string>& metadata);

}  // namespace vqi::infer
