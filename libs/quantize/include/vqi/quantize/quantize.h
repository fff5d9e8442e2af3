// Post-training int8 quantization as a use case (`vqi model quantize`): the glue between the
// runtime that observes activations (libs/infer-onednn's TensorObserver) and the writer of the
// QDQ file (libs/onnx, which links no runtime). Calibrates on real images letterboxed as the
// detector serves them (libs/yolo), writes the model atomically, and measures the mAP change.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/detect/evaluate.h"
#include "vqi/onnx/quantize.h"

namespace vqi::quantize {

// The calibration images: a folder's images, or a part of a dataset split.
struct CalibrationSource {
  std::string folder;         // when set
  std::string home, dataset;  // else the dataset store
  std::string split = "default", part = "train";
  int max_images = 256;  // evenly spaced; 0: all
};

struct QuantizeRequest {
  std::string model, out;  // float32 detector in, QDQ file out (written atomically)
  CalibrationSource calib;
  std::vector<std::string> keep_float;  // Conv node names left in float
  onnx::QuantizeOptions options;
  int threads = 1;
  // mAP50 before/after on this source; unset: no comparison.
  std::optional<detect::EvalSource> evaluate;
  std::string backend = "auto";  // for the comparison
};

struct QuantizeResult {
  size_t bytes_fp32 = 0, bytes_int8 = 0;
  int convs = 0;
  size_t groups = 0;
  int calibration_images = 0;
  std::vector<Status> skipped;          // calibration images that did not decode
  std::vector<std::string> non_finite;  // "tensor: N values" warnings
  double seconds = 0;                   // calibration and writing
  std::optional<detect::Map50Change> map50;
};

// Errors name the file: the model is not a detector of the contract (InvalidArgument before any
// work: a quantized non-detector would be useless), the plan's refusals (already quantized,
// opset < 13, ...), no calibration image decoded, an unwritable `out`.
Result<QuantizeResult> Quantize(const QuantizeRequest& request,
                                const std::function<void(int done, int total)>& progress = {});

}  // namespace vqi::quantize
