// The input side of the YOLO contract (Ultralytics YOLOv8): an image is resized keeping its
// aspect ratio to fit the model input (bilinear), centred on gray 114 padding (split as
// Ultralytics rounds it), and laid out as RGB planes of float in [0, 1] (value / 255), NCHW.
// Training, validation, the checkpoint detector and every ONNX backend call these functions,
// so training and serving feed a model the same tensor for the same image.
#pragma once

#include <cstdint>
#include <vector>

#include "vqi/yolo/image.h"

namespace vqi::yolo {

// How an image was placed into the model input.
struct Letterbox {
  double scale = 1;             // input pixels per original pixel
  double pad_x = 0, pad_y = 0;  // left / top padding in input pixels
  int src_w = 0, src_h = 0;     // original image size
};

// The placement of a src_w x src_h image in a w x h input.
Letterbox PlanLetterbox(int src_w, int src_h, int w, int h);

// Letterboxes `bgr` into a `w` x `h` input and writes the RGB planes (3 * h * w floats) to
// `out`, in one pass: resize (bilinear, bit for bit what OpenCV 4.6's cv::resize INTER_LINEAR
// gives on 8-bit BGR, which Ultralytics' LetterBox calls), gray 114 padding, RGB, value / 255,
// NCHW, each input value written once; no OpenCV, no intermediate image. `scratch` (a few
// rows) is reused between calls: no allocation once it has grown. REQUIRES: !bgr.empty().
Letterbox LetterboxToTensor(const ImageView& bgr, int w, int h, float* out,
                            std::vector<uint8_t>* scratch);

// The same for `pixels` decoded smaller than the image they show (JPEG DCT scaling,
// vqi/yolo/image.h): the placement (and so the boxes mapped back through it) is planned for
// the original `src_w` x `src_h`; `pixels` are resized to the letterboxed size from there.
Letterbox LetterboxToTensor(const ImageView& pixels, int src_w, int src_h, int w, int h, float* out,
                            std::vector<uint8_t>* scratch);

namespace internal {
// Tests only: false makes the letterbox take its portable path even where SSE4.1 exists.
void SetLetterboxSimd(bool on);
}  // namespace internal

// The pixel layout alone: a BGR image (already input-sized) to RGB planes of value / 255
// (3 * height * width floats at `out`).
void BgrToTensor(const ImageView& bgr, float* out);

}  // namespace vqi::yolo
