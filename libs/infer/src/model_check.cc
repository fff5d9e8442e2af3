#include "vqi/infer/model_check.h"

#include "vqi/base/file.h"
#include "vqi/onnx/export.h"

namespace vqi::infer {

namespace {
std::string DimsStr(const std::vector<int64_t>& d) {
  std::string r = "[";
  for (size_t i = 0; i < d.size(); ++i) r += (i ? ", " : "") + std::to_string(d[i]);
  return r + "]";
}
constexpr int32_t kFloat = 1;  // onnx::TensorProto::FLOAT
}  // namespace

Result<ModelInfo> InspectModel(const std::string& onnx_path) {
  if (!FileExists(onnx_path)) return NotFound(onnx_path + ": model file not found");
  VQI_ASSIGN_OR_RETURN(onnx::OnnxSummary s, onnx::CheckOnnxFile(onnx_path));
  const auto& in = s.input_shape;
  if (in.size() != 4)
    return InvalidArgument(onnx_path + ": input '" + s.input_name + "' has rank " +
                           std::to_string(in.size()) + " " + DimsStr(in) +
                           ", expected rank 4 [1, 3, H, W]");
  for (int64_t d : in)
    if (d <= 0)
      return InvalidArgument(onnx_path + ": input '" + s.input_name + "' has dynamic shape " +
                             DimsStr(in) + "; export with static shapes [1, 3, H, W]");
  if (in[0] != 1 || in[1] != 3)
    return InvalidArgument(onnx_path + ": input '" + s.input_name + "' has shape " + DimsStr(in) +
                           ", expected [1, 3, H, W]");
  if (s.input_dtype != kFloat)
    return InvalidArgument(onnx_path + ": input '" + s.input_name + "' is not float32");
  const auto& out = s.output_shape;
  if (out.size() != 3 || out[0] != 1 || out[1] < 5 || out[2] <= 0)
    return InvalidArgument(onnx_path + ": output '" + s.output_name + "' has shape " +
                           DimsStr(out) + ", expected [1, 4 + nc, N]");
  if (s.output_dtype != kFloat)
    return InvalidArgument(onnx_path + ": output '" + s.output_name + "' is not float32");
  ModelInfo info;
  info.input_shape = in;
  info.output_shape = out;
  info.metadata = s.metadata;
  return info;
}

}  // namespace vqi::infer
