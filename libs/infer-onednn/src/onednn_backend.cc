// The adapter between the backend registry / public API (vqi/infer/onednn.h) and the compiler:
// load -> OptimizeGraph -> Compile, once; Run binds pointers. Every exception of a third-party
// library (oneDNN, protobuf, the allocator) stops here and becomes a Status naming the file.
#include <onnx/onnx_pb.h>

#include <mutex>
#include <new>
#include <oneapi/dnnl/dnnl.hpp>

#include "compiler.h"
#include "passes.h"
#include "vqi/infer/onednn.h"

namespace vqi::infer {

namespace {

class OnednnBackend final : public InferenceBackend {
 public:
  OnednnBackend(std::unique_ptr<onednn::CompiledModel> m, ModelInfo info)
      : model_(std::move(m)), info_(std::move(info)) {}
  std::string Name() const override { return "onednn"; }
  const ModelInfo& Info() const override { return info_; }
  Status Run(const float* input, float* output) override { return model_->Run(input, output); }
  std::string Details() const override { return model_->Details(); }

 private:
  std::unique_ptr<onednn::CompiledModel> model_;
  ModelInfo info_;
};

Status CheckOptions(const OnednnOptions& o) {
  if (o.threads < 1 || o.threads > OnednnOptions::kMaxThreads)
    return InvalidArgument("onednn: threads " + std::to_string(o.threads) +
                           " out of range (accepted: 1.." +
                           std::to_string(OnednnOptions::kMaxThreads) + ")");
  if (o.block != -1 && o.block != 0 && o.block != 8 && o.block != 16)
    return InvalidArgument("onednn: block " + std::to_string(o.block) +
                           " not one of -1 (auto), 0 (nhwc), 8, 16");
  if (o.serial_conv_macs < 0 || o.serial_bytes < 0)
    return InvalidArgument("onednn: serial thresholds must be >= 0");
  return Status::Ok();
}

Result<std::unique_ptr<InferenceBackend>> Build(onednn::Graph g, const std::string& source,
                                                const OnednnOptions& options) {
  VQI_RETURN_IF_ERROR(OptimizeGraph(&g, {.fuse = options.fuse}).WithContext(source));
  ModelInfo info;
  info.input_shape = g.tensors[g.input].shape;
  info.output_shape = g.tensors[g.output].shape;
  info.metadata = g.metadata;
  if (info.input_shape.size() != 4 || info.input_shape[1] != 3)
    return InvalidArgument(source + ": input '" + g.tensors[g.input].name + "' has shape " +
                           onednn::ShapeString(info.input_shape) + ", expected [1,3,H,W]");
  if (info.output_shape.size() != 3)
    return InvalidArgument(source + ": output '" + g.tensors[g.output].name + "' has shape " +
                           onednn::ShapeString(info.output_shape) + ", expected rank 3 [1,4+nc,N]");
  onednn::CompileOptions co;
  co.threads = options.threads;
  co.serial_conv_macs = options.serial_conv_macs;
  co.serial_bytes = options.serial_bytes;
  co.block = options.block;
  co.profile = options.profile;
  co.tune = options.tune;
  auto compiled = Compile(std::move(g), co);
  if (!compiled.ok()) return compiled.status().WithContext(source);
  return std::unique_ptr<InferenceBackend>(
      std::make_unique<OnednnBackend>(std::move(compiled).value(), std::move(info)));
}

// Runs `open` with every exception turned into a Status naming `source`.
template <typename F>
Result<std::unique_ptr<InferenceBackend>> Guarded(const std::string& source, F open) {
  try {
    return open();
  } catch (const dnnl::error& e) {
    return Internal(source + ": oneDNN error: " + e.what());
  } catch (const std::bad_alloc&) {
    return ResourceExhausted(source + ": out of memory while compiling the model");
  } catch (const std::exception& e) {
    return Internal(source + ": " + e.what());
  }
}

}  // namespace

Result<std::unique_ptr<InferenceBackend>> OpenOnednnBackend(const std::string& onnx_path,
                                                            const OnednnOptions& options) {
  VQI_RETURN_IF_ERROR(CheckOptions(options));
  return Guarded(onnx_path, [&]() -> Result<std::unique_ptr<InferenceBackend>> {
    VQI_ASSIGN_OR_RETURN(onednn::Graph g, onednn::LoadOnnxFile(onnx_path));
    return Build(std::move(g), onnx_path, options);
  });
}

Result<std::unique_ptr<InferenceBackend>> OpenOnednnBackend(const onnx::ModelProto& model,
                                                            const std::string& source,
                                                            const OnednnOptions& options) {
  VQI_RETURN_IF_ERROR(CheckOptions(options));
  return Guarded(source, [&]() -> Result<std::unique_ptr<InferenceBackend>> {
    VQI_ASSIGN_OR_RETURN(onednn::Graph g, onednn::LoadOnnxModel(model, source));
    return Build(std::move(g), source, options);
  });
}

void RegisterOnednnBackend() {
  static std::once_flag once;
  std::call_once(once, [] {
    RegisterBackend("onednn", [](const OnnxModel& m, const BackendOptions& o) {
      OnednnOptions oo;
      oo.threads = std::max(1, o.threads);
      // The model as the core read and parsed it: the file is not read or parsed again.
      if (m.proto) return OpenOnednnBackend(*m.proto, m.path, oo);
      return OpenOnednnBackend(m.path, oo);
    });
  });
}

}  // namespace vqi::infer
