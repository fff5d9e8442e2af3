// Reading intermediate tensors of an fp32 ONNX model while it runs: the calibration side of
// post-training quantization (`vqi model quantize`). The observer runs the model's graph with
// the named tensors kept and hands their values (plain row-major, NCHW for 4-D) to a callback
// after each input. Names are the ONNX value names of the original file.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "vqi/base/status.h"

namespace onnx {
class ModelProto;
}  // namespace onnx

namespace vqi::infer {

class TensorObserver {
 public:
  using Callback = std::function<void(const std::string& name, const float* data, int64_t count)>;
  virtual ~TensorObserver() = default;
  virtual const std::vector<int64_t>& InputShape() const = 0;
  // REQUIRES: `input` holds numel(InputShape()) floats. Calls `fn` once per observed tensor.
  virtual Status Run(const float* input, const Callback& fn) = 0;
};

// Errors name the file (not ONNX, ...) or the first name that is not a float tensor of the
// graph. `threads` <= 0: all available cores.
Result<std::unique_ptr<TensorObserver>> OpenTensorObserver(const std::string& onnx_path,
                                                           const std::vector<std::string>& names,
                                                           int threads);
// The same from a model already parsed by the caller (the file is not read again, as
// OpenOnednnBackend's overload); `source` names it in errors.
Result<std::unique_ptr<TensorObserver>> OpenTensorObserver(const ::onnx::ModelProto& model,
                                                           const std::string& source,
                                                           const std::vector<std::string>& names,
                                                           int threads);

}  // namespace vqi::infer
