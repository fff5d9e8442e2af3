// Helpers shared by the exporter and rewrites. Private to libs/onnx.
#pragma once

#include <onnx/onnx_pb.h>

#include <string>

#include "vqi/base/status.h"
#include "vqi/onnx/export.h"

namespace vqi::onnx {

// DataLoss naming `where` when `bytes` do not parse as a ModelProto with a graph.
Status ParseModel(const std::string& bytes, const std::string& where, ::onnx::ModelProto* m);

// Runs onnx::checker and strict shape inference (on a copy) and summarizes the model.
Result<OnnxSummary> CheckModel(const ::onnx::ModelProto& m, const std::string& where);

// In-place float16 conversion of Conv weight/bias initializers.
void ConvertConvWeightsToFloat16(::onnx::ModelProto* m);

}  // namespace vqi::onnx
