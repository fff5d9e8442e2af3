// Validates an ONNX file against the detection I/O contract (see backend.h) before any backend
// loads it, so every backend reports bad files the same way.
#pragma once

#include <string>

#include "vqi/base/status.h"
#include "vqi/infer/backend.h"

namespace vqi::infer {

// Parses `onnx_path`, runs onnx::checker and shape inference, and checks the contract:
// one float32 input of static shape [1, 3, H, W], one float32 output [1, 4 + nc, N].
// Errors name the file: NotFound; DataLoss (truncated or not ONNX); InvalidArgument (wrong
// input rank or shape, unknown op with its node name, dynamic dimensions).
Result<ModelInfo> InspectModel(const std::string& onnx_path);

}  // namespace vqi::infer
