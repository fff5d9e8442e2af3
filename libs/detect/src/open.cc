#include "vqi/detect/open.h"

#include <cmath>
#include <filesystem>

#include "vqi/base/file.h"
#include "vqi/base/system.h"
#include "vqi/eval/predictions.h"
#include "vqi/infer/detector.h"
#if VQI_WITH_TRAIN
#include "vqi/train/checkpoint_detector.h"
#endif
#if VQI_WITH_OPENCV_DNN
#include "vqi/infer/opencv.h"
#endif
#if VQI_WITH_ONEDNN
#include "vqi/infer/onednn.h"
#endif

namespace vqi::detect {

void RegisterAvailableBackends() {
#if VQI_WITH_OPENCV_DNN
  infer::RegisterOpencvBackend();
#endif
#if VQI_WITH_ONEDNN
  infer::RegisterOnednnBackend();
#endif
}

std::vector<std::string> ModelKinds() {
  std::vector<std::string> kinds;
#if VQI_WITH_TRAIN
  kinds.push_back("checkpoint (.safetensors)");
#endif
  kinds.push_back("onnx (.onnx)");
  kinds.push_back("predictions (predictions.json)");
  return kinds;
}

Result<infer::BackendOptions> BackendOptionsOf(const ModelOptions& options) {
  VQI_ASSIGN_OR_RETURN(const infer::Precision precision, infer::ParsePrecision(options.precision));
  return infer::BackendOptions{options.threads, precision};
}

Result<std::unique_ptr<eval::Detector>> OpenDetector(const std::string& path,
                                                     const ModelOptions& options) {
  VQI_RETURN_IF_ERROR(CheckThreadCount(options.threads, "threads"));
  VQI_ASSIGN_OR_RETURN(const infer::BackendOptions backend, BackendOptionsOf(options));
  if (!path.ends_with(".onnx") && backend.precision != infer::Precision::kAuto &&
      backend.precision != infer::Precision::kFp32)
    return InvalidArgument(path + ": precision " + options.precision +
                           " applies to ONNX models only (export the checkpoint, then "
                           "'vqi model quantize' for int8)");
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return InvalidArgument(path + ": is a directory, not a model file");
  if (path.ends_with(".safetensors")) {
#if VQI_WITH_TRAIN
    return train::OpenCheckpointDetector(path, options.threads);
#else
    return InvalidArgument(path +
                           ": checkpoints run with libtorch, which this build leaves out "
                           "(VQI_WITH_TRAIN=OFF); export the checkpoint to ONNX");
#endif
  }
  if (path.ends_with(".onnx")) {
    VQI_ASSIGN_OR_RETURN(std::unique_ptr<infer::OnnxDetector> d,
                         infer::OnnxDetector::Open(path, options.backend, backend));
    return std::unique_ptr<eval::Detector>(std::move(d));
  }
  if (path.ends_with("predictions.json")) return eval::OpenPredictionsFile(path);
  std::string kinds;
  for (const std::string& k : ModelKinds()) kinds += (kinds.empty() ? "" : ", ") + k;
  return InvalidArgument(path + ": not a model file this build can run (known kinds: " + kinds +
                         ")");
}

Status ValidateDetectOptions(const eval::DetectOptions& o) {
  auto unit = [](const char* name, float v) -> Status {
    if (std::isfinite(v) && v >= 0 && v <= 1) return Status::Ok();
    return InvalidArgument(std::string(name) + " " + std::to_string(v) + ": accepted range 0..1");
  };
  VQI_RETURN_IF_ERROR(unit("conf", o.conf_threshold));
  VQI_RETURN_IF_ERROR(unit("iou", o.iou_threshold));
  if (o.max_detections < 1 || o.max_detections > kMaxDetections)
    return InvalidArgument("max-det " + std::to_string(o.max_detections) + ": accepted range 1.." +
                           std::to_string(kMaxDetections));
  return Status::Ok();
}

}  // namespace vqi::detect
