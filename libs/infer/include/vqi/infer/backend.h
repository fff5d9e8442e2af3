// An inference backend runs one ONNX detection model on a CPU. The contract every backend
// (OpenCV DNN, oneDNN) honours; pre/post-processing is shared and lives outside backends.
//
// Model I/O (the Ultralytics YOLOv8 detection contract): input `images` float32 1x3xHxW
// (RGB, 0..1, letterboxed with gray 114); output `output0` float32 1x(4+nc)xN
// (cx, cy, w, h in input pixels, then sigmoid class scores).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "vqi/base/status.h"

namespace onnx {
class ModelProto;
}  // namespace onnx

namespace vqi::infer {

// The arithmetic a model runs in. kAuto: as the file says (a float model fp32, a QDQ model
// int8 with the layers the quantizer kept float in fp32). kFp32 / kInt8 require a float / a QDQ
// file. kBf16: a float model with bf16 weights and activations (float accumulation), or a QDQ
// model whose float layers run bf16 instead of fp32 (mixed int8/bf16); only the onednn backend,
// only on CPUs with AVX512-BF16. The graph input and output stay float32 either way.
enum class Precision { kAuto, kFp32, kBf16, kInt8 };
// "auto", "fp32", "bf16", "int8" (the names the CLI, JSON and docs use).
const char* PrecisionName(Precision p);
// InvalidArgument naming the accepted values for anything else.
Result<Precision> ParsePrecision(const std::string& name);

// The largest BackendOptions::batch (docs/limits.md).
inline constexpr int kMaxBatch = 64;

// Per backend instance: two models in one process may use different thread counts.
struct BackendOptions {
  int threads = 1;  // intra-op threads, >= 1; results are deterministic for a given count
  Precision precision = Precision::kAuto;
  // Images per Run() (1..64). The file is exported at batch 1; a backend that can compiles it
  // for this batch (onednn: docs/design/inference.md "Batch N"), then Info() shows [N,3,H,W] /
  // [N,4+nc,A] and Run() takes N images back to back. opencv: Unimplemented for batch > 1.
  int batch = 1;
};

struct ModelInfo {
  std::vector<int64_t> input_shape;             // {B, 3, H, W}; B = BackendOptions::batch
  std::vector<int64_t> output_shape;            // {B, 4 + nc, N}
  std::map<std::string, std::string> metadata;  // ONNX metadata_props (names, stride, ...)
};

// Not thread-safe: one Run() at a time per instance. Load once, run many times; after the
// first (warm-up) Run() a backend should not allocate per inference.
class InferenceBackend {
 public:
  virtual ~InferenceBackend() = default;
  virtual std::string Name() const = 0;  // "opencv", "onednn"
  virtual const ModelInfo& Info() const = 0;
  // REQUIRES: `input` holds numel(input_shape) floats, `output` room for numel(output_shape)
  // (input_shape[0] images, back to back, and as many outputs).
  virtual Status Run(const float* input, float* output) = 0;
  // Free-form details for reports (e.g. oneDNN's chosen ISA/implementations).
  virtual std::string Details() const { return ""; }
};

// An ONNX model read from disk once, parsed once and checked against the contract above
// (vqi/infer/model_file.h). Backends build from `proto` (or `bytes`), never from the path.
struct OnnxModel {
  std::string path;                                 // names the file in messages
  std::shared_ptr<const std::string> bytes;         // the file as read
  std::shared_ptr<const ::onnx::ModelProto> proto;  // `bytes` parsed
  ModelInfo info;
};

using BackendFactory = std::function<Result<std::unique_ptr<InferenceBackend>>(
    const OnnxModel& model, const BackendOptions& options)>;

// Backends are registered explicitly by the program (e.g. RegisterOpencvBackend() in
// vqi/infer/opencv.h, RegisterOnednnBackend() in vqi/infer/onednn.h, or all that the build
// holds at once); registering a name again replaces its factory. Thread-safe.
void RegisterBackend(const std::string& name, BackendFactory factory);
std::vector<std::string> BackendNames();

// name: a registered backend, or "auto" (onednn when registered and it loads the model, else
// opencv with a warning naming why). Errors name the file and the reason (not ONNX, truncated,
// bad rank, unsupported op with its node name, a backend not built in).
Result<std::unique_ptr<InferenceBackend>> OpenBackend(const std::string& name,
                                                      const OnnxModel& model,
                                                      const BackendOptions& options);
// Reads and checks `onnx_path` (LoadOnnxModel), then as above.
Result<std::unique_ptr<InferenceBackend>> OpenBackend(const std::string& name,
                                                      const std::string& onnx_path,
                                                      const BackendOptions& options);

}  // namespace vqi::infer
