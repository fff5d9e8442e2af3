// Opening a model file as a detector, whatever runs it: a vqi checkpoint (*.safetensors, with
// libtorch, when the build has training), an ONNX file (libs/infer, on the backends the build
// holds) or a saved predictions file (predictions.json, libs/eval). What the CLI, and later the
// server and the edge agent, call instead of choosing a runtime themselves.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/eval/detector.h"
#include "vqi/infer/backend.h"

namespace vqi::detect {

// Intra-op threads of one model: each model owns its count (no process-wide setting).
struct ModelOptions {
  int threads = 1;               // 1..vqi::kMaxThreads (libs/base system.h)
  std::string backend = "auto";  // ONNX files: auto | opencv | onednn (those built in)
  // ONNX files: auto | fp32 | bf16 | int8 (vqi/infer/backend.h Precision); checkpoints and
  // predictions files accept auto and fp32 only.
  std::string precision = "auto";
};

// The backend options of an ONNX model: threads and the parsed precision (InvalidArgument
// naming the accepted values for an unknown one).
Result<infer::BackendOptions> BackendOptionsOf(const ModelOptions& options);

// Registers every inference backend this build holds (VQI_WITH_ONEDNN, VQI_WITH_OPENCV_DNN).
// Call once at program start; calling again is harmless.
void RegisterAvailableBackends();

// The model kinds this build can open, e.g. {"checkpoint (.safetensors)", "onnx (.onnx)",
// "predictions (predictions.json)"}.
std::vector<std::string> ModelKinds();

// Opens `path` by its name: *.safetensors, *.onnx, *predictions.json. Errors name the file:
// InvalidArgument for a directory ("is a directory"), a kind this build cannot run (naming the
// build option); threads outside 1..kMaxThreads as CheckThreadCount; NotFound; then the
// opener's own errors.
Result<std::unique_ptr<eval::Detector>> OpenDetector(const std::string& path,
                                                     const ModelOptions& options);

// InvalidArgument naming the setting and its accepted range: conf and iou in [0, 1],
// max_detections in 1..kMaxDetections.
inline constexpr int kMaxDetections = 10000;
Status ValidateDetectOptions(const eval::DetectOptions& options);

}  // namespace vqi::detect
