#include "vqi/infer/detector.h"

#include <chrono>

#include "vqi/eval/nms.h"

namespace vqi::infer {

namespace {
using Clock = std::chrono::steady_clock;
double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}
}  // namespace

OnnxDetector::OnnxDetector(std::unique_ptr<InferenceBackend> b, std::vector<std::string> names)
    : backend_(std::move(b)), names_(std::move(names)) {
  const ModelInfo& info = backend_->Info();
  in_h_ = static_cast<int>(info.input_shape[2]);
  in_w_ = static_cast<int>(info.input_shape[3]);
  anchors_ = info.output_shape[2];
  input_.resize(static_cast<size_t>(3 * in_w_ * in_h_));
  output_.resize(static_cast<size_t>(info.output_shape[1] * anchors_));
}

Result<std::unique_ptr<OnnxDetector>> OnnxDetector::Open(const std::string& onnx_path,
                                                         const std::string& backend,
                                                         const BackendOptions& options) {
  VQI_ASSIGN_OR_RETURN(std::unique_ptr<InferenceBackend> b,
                       OpenBackend(backend, onnx_path, options));
  const ModelInfo& info = b->Info();
  const int64_t nc = info.output_shape[1] - 4;
  auto names = ClassNamesFromMetadata(info.metadata);
  std::vector<std::string> n;
  if (names.ok()) {
    n = std::move(names).value();
  } else {  // a foreign model without names: number the classes
    for (int64_t i = 0; i < nc; ++i) n.push_back(std::to_string(i));
  }
  if (static_cast<int64_t>(n.size()) != nc)
    return InvalidArgument(onnx_path + ": metadata names " + std::to_string(n.size()) +
                           " classes but output0 has " + std::to_string(nc));
  return std::unique_ptr<OnnxDetector>(new OnnxDetector(std::move(b), std::move(n)));
}

Result<std::vector<eval::Detection>> OnnxDetector::Detect(const std::string& image_path,
                                                          const eval::DetectOptions& options) {
  const auto t0 = Clock::now();
  VQI_ASSIGN_OR_RETURN(cv::Mat bgr, DecodeImageFile(image_path));
  const auto t1 = Clock::now();
  auto dets = DetectImage(bgr, options);
  times_.decode_ms = Ms(t0, t1);
  if (!dets.ok()) return dets.status().WithContext(image_path);
  return dets;
}

Result<std::vector<eval::Detection>> OnnxDetector::DetectImage(
    const cv::Mat& bgr, const eval::DetectOptions& options) {
  if (bgr.empty() || bgr.type() != CV_8UC3)
    return InvalidArgument("image must be a non-empty 8-bit BGR image");
  const auto t0 = Clock::now();
  const Letterbox lb = LetterboxToTensor(bgr, in_w_, in_h_, input_.data(), &scratch_);
  const auto t1 = Clock::now();
  VQI_RETURN_IF_ERROR(backend_->Run(input_.data(), output_.data()));
  const auto t2 = Clock::now();
  std::vector<eval::Detection> cand = DecodeOutput(
      output_.data(), static_cast<int>(names_.size()), anchors_, lb, options.conf_threshold);
  std::vector<eval::Detection> dets = eval::FilterAndNms(cand, options);
  const auto t3 = Clock::now();
  times_ = {0, Ms(t0, t1), Ms(t1, t2), Ms(t2, t3)};
  return dets;
}

std::string OnnxDetector::Describe() const {
  return "onnx/" + backend_->Name() + " " + std::to_string(in_w_) + "x" + std::to_string(in_h_);
}

}  // namespace vqi::infer
