#include "onednn/onednn_backend.h"

#include "onednn/compiler.h"
#include "onednn/passes.h"

namespace vqi::infer::onednn {

namespace {

class OneDnnBackend final : public InferenceBackend {
 public:
  OneDnnBackend(std::unique_ptr<CompiledModel> m, ModelInfo info)
      : model_(std::move(m)), info_(std::move(info)) {}
  std::string Name() const override { return "onednn"; }
  const ModelInfo& Info() const override { return info_; }
  Status Run(const float* input, float* output) override { return model_->Run(input, output); }
  std::string Details() const override { return model_->Details(); }

 private:
  std::unique_ptr<CompiledModel> model_;
  ModelInfo info_;
};

}  // namespace

Result<std::unique_ptr<InferenceBackend>> OpenOneDnnBackend(const std::string& onnx_path,
                                                            const BackendOptions& options) {
  VQI_ASSIGN_OR_RETURN(Graph g, LoadOnnxFile(onnx_path));
  VQI_RETURN_IF_ERROR(OptimizeGraph(&g).WithContext(onnx_path));
  ModelInfo info;
  info.input_shape = g.tensors[g.input].shape;
  info.output_shape = g.tensors[g.output].shape;
  info.metadata = g.metadata;
  if (info.input_shape.size() != 4 || info.input_shape[1] != 3)
    return InvalidArgument(onnx_path + ": input '" + g.tensors[g.input].name + "' has shape " +
                           ShapeString(info.input_shape) + ", expected [1,3,H,W]");
  if (info.output_shape.size() != 3)
    return InvalidArgument(onnx_path + ": output '" + g.tensors[g.output].name + "' has shape " +
                           ShapeString(info.output_shape) + ", expected rank 3 [1,4+nc,N]");
  CompileOptions co;
  co.threads = std::max(1, options.threads);
  auto compiled = Compile(std::move(g), co);
  if (!compiled.ok()) return compiled.status().WithContext(onnx_path);
  return std::unique_ptr<InferenceBackend>(
      std::make_unique<OneDnnBackend>(std::move(compiled).value(), std::move(info)));
}

}  // namespace vqi::infer::onednn
