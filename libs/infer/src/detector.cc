#include "vqi/infer/detector.h"

#include <chrono>
#include <filesystem>

#include "vqi/base/file.h"
#include "vqi/eval/nms.h"
#include "vqi/infer/model_file.h"
#include "vqi/yolo/decode.h"
#include "vqi/yolo/letterbox.h"

namespace vqi::infer {

namespace {
using Clock = std::chrono::steady_clock;
double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}
}  // namespace

OnnxDetector::OnnxDetector(std::unique_ptr<InferenceBackend> b, std::vector<std::string> names,
                           std::string where)
    : backend_(std::move(b)), names_(std::move(names)), where_(std::move(where)) {
  const ModelInfo& info = backend_->Info();
  in_h_ = static_cast<int>(info.input_shape[2]);
  in_w_ = static_cast<int>(info.input_shape[3]);
  anchors_ = info.output_shape[2];
  input_.resize(static_cast<size_t>(3 * in_w_ * in_h_));
  output_.resize(static_cast<size_t>(info.output_shape[1] * anchors_));
}

Result<std::unique_ptr<OnnxDetector>> OnnxDetector::Open(const OnnxModel& model,
                                                         const std::string& backend,
                                                         const BackendOptions& options) {
  VQI_ASSIGN_OR_RETURN(std::unique_ptr<InferenceBackend> b, OpenBackend(backend, model, options));
  const ModelInfo& info = b->Info();
  const int64_t nc = info.output_shape[1] - 4;
  auto names = yolo::ClassNamesFromMetadata(info.metadata);
  std::vector<std::string> n;
  if (names.ok()) {
    n = std::move(names).value();
  } else {  // a foreign model without names: number the classes
    for (int64_t i = 0; i < nc; ++i) n.push_back(std::to_string(i));
  }
  if (static_cast<int64_t>(n.size()) != nc)
    return InvalidArgument(model.path + ": metadata names " + std::to_string(n.size()) +
                           " classes but output0 has " + std::to_string(nc));
  return std::unique_ptr<OnnxDetector>(new OnnxDetector(std::move(b), std::move(n), model.path));
}

Result<std::unique_ptr<OnnxDetector>> OnnxDetector::Open(const std::string& onnx_path,
                                                         const std::string& backend,
                                                         const BackendOptions& options) {
  VQI_ASSIGN_OR_RETURN(OnnxModel model, LoadOnnxModel(onnx_path));
  return Open(model, backend, options);
}

yolo::DecodeOptions OnnxDetector::DecodeHint() const {
  yolo::DecodeOptions o;
  if (reduced_decode_) o.fit_width = in_w_, o.fit_height = in_h_;
  return o;
}

Result<std::vector<eval::Detection>> OnnxDetector::Detect(const std::string& image_path,
                                                          const eval::DetectOptions& options) {
  const auto t0 = Clock::now();
  std::error_code ec;
  if (std::filesystem::is_directory(image_path, ec))
    return InvalidArgument(image_path + ": is a directory, not an image file");
  VQI_ASSIGN_OR_RETURN(std::string bytes, ReadFile(image_path));
  const auto t1 = Clock::now();
  VQI_ASSIGN_OR_RETURN(yolo::Image img, yolo::DecodeImageBytes(bytes, image_path, DecodeHint()));
  const auto t2 = Clock::now();
  auto dets = DetectDecoded(img, image_path, options);
  times_.read_ms = Ms(t0, t1);
  times_.decode_ms = Ms(t1, t2);
  return dets;
}

Result<std::vector<eval::Detection>> OnnxDetector::DetectDecoded(
    const yolo::Image& image, const std::string& name, const eval::DetectOptions& options) {
  return Run(image.View(), image.source_width, image.source_height, name, options);
}

Result<std::vector<eval::Detection>> OnnxDetector::DetectImage(const yolo::ImageView& bgr,
                                                               const std::string& name,
                                                               const eval::DetectOptions& options) {
  return Run(bgr, bgr.width, bgr.height, name, options);
}

Result<std::vector<eval::Detection>> OnnxDetector::Run(const yolo::ImageView& bgr, int src_w,
                                                       int src_h, const std::string& name,
                                                       const eval::DetectOptions& options) {
  if (bgr.empty() || bgr.stride < static_cast<size_t>(bgr.width) * 3 || src_w <= 0 || src_h <= 0)
    return InvalidArgument(name + ": image must be a non-empty 8-bit BGR image");
  const auto t0 = Clock::now();
  const yolo::Letterbox lb =
      yolo::LetterboxToTensor(bgr, src_w, src_h, in_w_, in_h_, input_.data(), &scratch_);
  const double pre_ms = Ms(t0, Clock::now());
  auto dets = RunModel(input_.data(), lb, name, options);
  times_.read_ms = times_.decode_ms = 0;
  times_.pre_ms = pre_ms;
  return dets;
}

Result<std::vector<eval::Detection>> OnnxDetector::RunModel(const float* input,
                                                            const yolo::Letterbox& lb,
                                                            const std::string& name,
                                                            const eval::DetectOptions& options) {
  const auto t1 = Clock::now();
  VQI_RETURN_IF_ERROR(backend_->Run(input, output_.data()).WithContext(name));
  const auto t2 = Clock::now();
  const yolo::Decoded decoded = yolo::DecodeOutput(output_.data(), static_cast<int>(names_.size()),
                                                   anchors_, lb, options.conf_threshold);
  VQI_RETURN_IF_ERROR(yolo::CheckFinite(decoded, anchors_, where_ + " on " + name));
  std::vector<eval::Detection> dets = eval::FilterAndNms(decoded.candidates, options);
  times_.model_ms = Ms(t1, t2);
  times_.post_ms = Ms(t2, Clock::now());
  return dets;
}

Status OnnxDetector::Prepare(const std::string& path, Prepared* slot) const {
  const auto t0 = Clock::now();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return InvalidArgument(path + ": is a directory, not an image file");
  VQI_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  const auto t1 = Clock::now();
  VQI_ASSIGN_OR_RETURN(yolo::Image img, yolo::DecodeImageBytes(bytes, path, DecodeHint()));
  const auto t2 = Clock::now();
  slot->name = path;
  slot->input.resize(input_.size());
  slot->lb = yolo::LetterboxToTensor(img.View(), img.source_width, img.source_height, in_w_, in_h_,
                                     slot->input.data(), &slot->scratch);
  slot->times = {Ms(t0, t1), Ms(t1, t2), Ms(t2, Clock::now()), 0, 0};
  return Status::Ok();
}

Result<std::vector<eval::Detection>> OnnxDetector::RunPrepared(const Prepared& slot,
                                                               const eval::DetectOptions& options) {
  auto dets = RunModel(slot.input.data(), slot.lb, slot.name, options);
  times_.read_ms = slot.times.read_ms;
  times_.decode_ms = slot.times.decode_ms;
  times_.pre_ms = slot.times.pre_ms;
  return dets;
}

std::string OnnxDetector::Describe() const {
  std::string d =
      "onnx/" + backend_->Name() + " " + std::to_string(in_w_) + "x" + std::to_string(in_h_);
  // A precision the file does not show (bf16, int8+bf16) is named: reports must say what ran.
  const std::string details = backend_->Details();
  if (details.rfind("precision=", 0) == 0) {
    const std::string p = details.substr(10, details.find(' ') - 10);
    if (p.find("bf16") != std::string::npos) d += " " + p;
  }
  return d;
}

}  // namespace vqi::infer
