// Test/bench support: converts an fp32 ONNX model into the QDQ form `vqi model quantize`
// writes (opset >= 13, symmetric int8 with zero points 0, per-output-channel Conv weight
// scales, one scale per activation shared by every tensor linked through MaxPool, Resize,
// Concat, Split and Slice), calibrated by max |x| over synthetic inputs in [0, 1) with the
// reference interpreter. A stand-in for the real quantizer (libs/onnx) in tests and benches.
#pragma once

#include <cstdint>
#include <string>

#include "vqi/base/status.h"

namespace vqi::infer::onednn::testing {

struct QdqOptions {
  int calib_inputs = 1;  // seeded uniform [0, 1) images
  uint32_t seed = 5;
  // Convs with at most this many output channels stay fp32 (the DFL head's 1-channel conv,
  // which the real quantizer leaves out together with the rest of the detect head).
  int64_t min_conv_channels = 2;
  // The convs reading the graph input (the image) stay fp32, as `vqi model quantize` keeps them.
  bool first_conv_float = false;
};

// Errors: not ONNX, opset below 13, reference run failures.
Result<std::string> QuantizeToQdq(const std::string& fp32_onnx, const QdqOptions& options = {});

}  // namespace vqi::infer::onednn::testing
