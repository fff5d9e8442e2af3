// Loading an ONNX detection model: the file is read once and parsed once (onnx_proto only, no
// checker library and never the exporter), then checked against the detection I/O contract
// (see backend.h) before any backend sees it, so every backend reports bad files the same way.
#pragma once

#include <string>

#include "vqi/base/status.h"
#include "vqi/infer/backend.h"

namespace vqi::infer {

// Limits on what a model file may ask for (docs/limits.md): the file (protobuf's own message
// limit), the input side (the buffers are allocated from it) and the values of output0.
inline constexpr int64_t kMaxModelBytes = int64_t{2} << 30;
inline constexpr int64_t kMaxInputSide = 8192;
inline constexpr int64_t kMaxOutputValues = int64_t{1} << 28;

// Reads, parses and checks `path`. Errors name the file: NotFound; InvalidArgument for a
// directory ("is a directory"); ResourceExhausted above a limit above; DataLoss for bytes that
// are not an ONNX model (empty, truncated, no graph, a tensor name used but never defined);
// InvalidArgument for an operator that is not a standard ONNX operator (naming the node and
// the op), a wrong input (rank, shape, dynamic dims, type) or output ([1, 4 + nc, N] float32).
Result<OnnxModel> LoadOnnxModel(const std::string& path);
// The same for bytes already in memory; `where` names them in messages.
Result<OnnxModel> ParseOnnxModel(std::string bytes, const std::string& where);

// LoadOnnxModel(path).info.
Result<ModelInfo> InspectModel(const std::string& onnx_path);

}  // namespace vqi::infer
