// Emits the YOLOv8 detection network of a checkpoint as ONNX nodes. Private to libs/onnx.
#pragma once

#include <string>

#include "graph_builder.h"
#include "vqi/base/status.h"
#include "vqi/model/checkpoint.h"

namespace vqi::onnx {

// Adds nodes and (BatchNorm-folded) initializers reading `input` (1x3xHxW) and writing
// `output` (1x(4+nc)xN). REQUIRES: CheckWeights(ckpt) is OK.
//
// The head is written in shapes OpenCV 4.6's importer accepts (docs/design/onnx.md): the decode
// stays 4-D ([1,C,1,N]), every constant operand is pre-broadcast to the other operand's shape,
// and only the last node reshapes to the 3-D output.
Status EmitYolo(const model::Checkpoint& ckpt, GraphBuilder& b, const std::string& input,
                const std::string& output);

}  // namespace vqi::onnx
