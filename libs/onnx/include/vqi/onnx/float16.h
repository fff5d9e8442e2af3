// The float16-weight variant of a model (`vqi model optimize`): every float32 Conv weight and
// bias initializer is stored as float16 and widened back by a Cast node, so the file is about
// half the size while inputs, outputs and arithmetic stay float32 (any runtime that runs the
// float32 model runs this one; only weight rounding changes the numbers).
#pragma once

#include <string>

#include "vqi/base/status.h"

namespace vqi::onnx {

// `onnx_bytes` is a serialized model; returns the converted, checked model. Converting an
// already-converted model is a no-op. DataLoss when the bytes are not a model.
Result<std::string> ConvertWeightsToFloat16(const std::string& onnx_bytes,
                                            const std::string& where);

// IEEE 754 binary16 conversions, round to nearest even.
uint16_t FloatToHalf(float f);
float HalfToFloat(uint16_t h);

}  // namespace vqi::onnx
