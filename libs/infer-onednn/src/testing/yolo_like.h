// Test/bench support: a YOLOv8 detection graph with random weights, built from
// vqi::model::Plan() exactly as Ultralytics exports it (Conv+Sigmoid+Mul, C2f with Split,
// SPPF, Resize, DFL head with Softmax and Conv, anchors as constants, output0 1x(4+nc)xN).
#pragma once

#include <string>

#include "vqi/base/status.h"
#include "vqi/model/config.h"

namespace vqi::infer::onednn::testing {

Result<std::string> BuildYoloLikeOnnx(const model::ModelConfig& cfg, uint32_t seed = 7,
                                      int64_t opset = 13);

}  // namespace vqi::infer::onednn::testing
