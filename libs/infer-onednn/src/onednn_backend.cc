// The adapter between the backend registry / public API (vqi/infer/onednn.h) and the compiler:
// load -> OptimizeGraph -> Compile, once; Run binds pointers. Every exception of a third-party
// library (oneDNN, protobuf, the allocator) stops here and becomes a Status naming the file.
#include <onnx/onnx_pb.h>

#include <mutex>
#include <new>
#include <oneapi/dnnl/dnnl.hpp>

#include "compiler.h"
#include "passes.h"
#include "rebatch.h"
#include "vqi/infer/onednn.h"

namespace vqi::infer {

namespace {

class OnednnBackend final : public InferenceBackend {
 public:
  OnednnBackend(std::unique_ptr<onednn::CompiledModel> m, ModelInfo info, std::string precision)
      : model_(std::move(m)), info_(std::move(info)), precision_(std::move(precision)) {}
  std::string Name() const override { return "onednn"; }
  const ModelInfo& Info() const override { return info_; }
  Status Run(const float* input, float* output) override { return model_->Run(input, output); }
  std::string Details() const override {
    return "precision=" + precision_ + " " + model_->Details();
  }

 private:
  std::unique_ptr<onednn::CompiledModel> model_;
  ModelInfo info_;
  std::string precision_;  // fp32, bf16, int8, int8+bf16
};

std::string IsaName() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx512_core_amx:
      return "avx512_core_amx";
    case dnnl::cpu_isa::avx512_core_bf16:
      return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_vnni:
      return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core:
      return "avx512_core";
    case dnnl::cpu_isa::avx2_vnni:
      return "avx2_vnni";
    case dnnl::cpu_isa::avx2:
      return "avx2";
    default:
      return "other";
  }
}

// The precision asked for against the file: fp32 needs a float file, int8 a QDQ one, bf16 the
// ISA. Returns what runs ("fp32", "bf16", "int8", "int8+bf16").
Result<std::string> CheckPrecision(const onednn::Graph& g, const std::string& source,
                                   const OnednnOptions& o) {
  bool int8 = false;
  for (const onednn::Node& n : g.nodes) int8 = int8 || (!n.dead && n.op == "Conv" && n.wq >= 0);
  switch (o.precision) {
    case Precision::kAuto:
      return std::string(int8 ? "int8" : "fp32");
    case Precision::kFp32:
      if (int8)
        return InvalidArgument(source +
                               ": precision fp32 asked for an int8 (QDQ) model; open the float "
                               "model, or use precision int8, bf16 or auto");
      return std::string("fp32");
    case Precision::kInt8:
      if (!int8)
        return InvalidArgument(source +
                               ": precision int8 asked for a float model; make an int8 file with "
                               "'vqi model quantize', or use precision fp32, bf16 or auto");
      return std::string("int8");
    case Precision::kBf16:
      if (o.pretend_no_bf16 || !OnednnHasBf16())
        return FailedPrecondition(
            source +
            ": precision bf16 needs a CPU with AVX512-BF16, and oneDNN reports isa=" + IsaName() +
            (o.pretend_no_bf16 ? " (pretend_no_bf16 set)" : "") + "; use precision fp32 or int8");
      return std::string(int8 ? "int8+bf16" : "bf16");
  }
  return InvalidArgument(source + ": unknown precision");
}

Status CheckOptions(const OnednnOptions& o) {
  if (o.threads < 1 || o.threads > OnednnOptions::kMaxThreads)
    return InvalidArgument("onednn: threads " + std::to_string(o.threads) +
                           " out of range (accepted: 1.." +
                           std::to_string(OnednnOptions::kMaxThreads) + ")");
  if (o.block != -1 && o.block != 0 && o.block != 8 && o.block != 16)
    return InvalidArgument("onednn: block " + std::to_string(o.block) +
                           " not one of -1 (auto), 0 (nhwc), 8, 16");
  if (o.serial_conv_macs < -1 || o.serial_bytes < 0)
    return InvalidArgument(
        "onednn: serial thresholds must be >= 0 (serial_conv_macs: or -1, from the OpenMP wait "
        "policy)");
  if (o.batch < 1 || o.batch > onednn::kMaxBatch)
    return InvalidArgument("onednn: batch " + std::to_string(o.batch) +
                           " out of range (accepted: 1.." + std::to_string(onednn::kMaxBatch) +
                           ")");
  return Status::Ok();
}

Result<std::unique_ptr<InferenceBackend>> Build(onednn::Graph g, const std::string& source,
                                                const OnednnOptions& options) {
  if (options.batch != 1) {
    auto rebatched = onednn::RebatchGraph(std::move(g), options.batch);
    if (!rebatched.ok()) return rebatched.status().WithContext(source);
    g = std::move(rebatched).value();
  }
  VQI_RETURN_IF_ERROR(OptimizeGraph(&g, {.fuse = options.fuse}).WithContext(source));
  ModelInfo info;
  info.input_shape = g.tensors[g.input].shape;
  info.output_shape = g.tensors[g.output].shape;
  info.metadata = g.metadata;
  if (info.input_shape.size() != 4 || info.input_shape[1] != 3)
    return InvalidArgument(source + ": input '" + g.tensors[g.input].name + "' has shape " +
                           onednn::ShapeString(info.input_shape) + ", expected [" +
                           std::to_string(options.batch) + ",3,H,W]");
  if (info.output_shape.size() != 3)
    return InvalidArgument(source + ": output '" + g.tensors[g.output].name + "' has shape " +
                           onednn::ShapeString(info.output_shape) + ", expected rank 3 [1,4+nc,N]");
  VQI_ASSIGN_OR_RETURN(std::string precision, CheckPrecision(g, source, options));
  onednn::CompileOptions co;
  co.bf16 = options.precision == Precision::kBf16;
  co.threads = options.threads;
  co.serial_conv_macs = options.serial_conv_macs;
  co.serial_bytes = options.serial_bytes;
  co.block = options.block;
  co.profile = options.profile;
  co.tune = options.tune;
  co.winograd = options.winograd;
  auto compiled = Compile(std::move(g), co);
  if (!compiled.ok()) return compiled.status().WithContext(source);
  return std::unique_ptr<InferenceBackend>(
      std::make_unique<OnednnBackend>(std::move(compiled).value(), std::move(info), precision));
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

bool OnednnHasBf16() {
  const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
  const auto bf16 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
  return (isa & bf16) == bf16;  // the ISA values are nested bit masks (amx includes bf16)
}

void RegisterOnednnBackend() {
  static std::once_flag once;
  std::call_once(once, [] {
    RegisterBackend("onednn", [](const OnnxModel& m, const BackendOptions& o) {
      OnednnOptions oo;
      oo.threads = std::max(1, o.threads);
      oo.precision = o.precision;
      oo.batch = o.batch;
      // The model as the core read and parsed it: the file is not read or parsed again.
      if (m.proto) return OpenOnednnBackend(*m.proto, m.path, oo);
      return OpenOnednnBackend(m.path, oo);
    });
  });
}

}  // namespace vqi::infer
