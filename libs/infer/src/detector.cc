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
  BackendOptions single = options;
  single.batch = 1;
  std::unique_ptr<InferenceBackend> batched;
  if (options.batch != 1) {  // first: its errors (range, opencv, a graph that cannot) matter
    VQI_ASSIGN_OR_RETURN(batched, OpenBackend(backend, model, options));
  }
  // The batch-1 model on the same backend as the batched one (auto could differ otherwise).
  const std::string name_1 = batched ? batched->Name() : backend;
  VQI_ASSIGN_OR_RETURN(std::unique_ptr<InferenceBackend> b, OpenBackend(name_1, model, single));
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
  std::unique_ptr<OnnxDetector> det(new OnnxDetector(std::move(b), std::move(n), model.path));
  if (batched) {
    det->batch_ = options.batch;
    det->batch_input_.resize(det->input_.size() * static_cast<size_t>(options.batch));
    det->batch_output_.resize(det->output_.size() * static_cast<size_t>(options.batch));
    det->batch_backend_ = std::move(batched);
  }
  return det;
}

Result<std::unique_ptr<OnnxDetector>> OnnxDetector::Open(const std::string& onnx_path,
                                                         const std::string& backend,
                                                         const BackendOptions& options) {
  VQI_ASSIGN_OR_RETURN(OnnxModel model, LoadOnnxModel(onnx_path));
  return Open(model, backend, options);
}

yolo::DecodeOptions OnnxDetector::DecodeHint() const {
  yolo::DecodeOptions o;
  if (reduced_decode_) o.fit_width = in_w_, o.fit_height = in_h_, o.fast = true;
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
  auto dets = Post(output_.data(), lb, name, options);
  times_.model_ms = Ms(t1, t2);
  times_.post_ms = Ms(t2, Clock::now());
  return dets;
}

Result<std::vector<eval::Detection>> OnnxDetector::Post(const float* output,
                                                        const yolo::Letterbox& lb,
                                                        const std::string& name,
                                                        const eval::DetectOptions& options) const {
  const yolo::Decoded decoded = yolo::DecodeOutput(output, static_cast<int>(names_.size()),
                                                   anchors_, lb, options.conf_threshold);
  VQI_RETURN_IF_ERROR(yolo::CheckFinite(decoded, anchors_, where_ + " on " + name));
  return eval::FilterAndNms(decoded.candidates, options);
}

std::vector<Result<std::vector<eval::Detection>>> OnnxDetector::DetectBatch(
    const std::vector<const yolo::Image*>& images, const std::vector<std::string>& names,
    const eval::DetectOptions& options) {
  const size_t k = images.size();
  std::vector<Result<std::vector<eval::Detection>>> results;
  results.reserve(k);
  batch_times_.assign(k, StageTimes{});
  bool whole = batch_backend_ && k == static_cast<size_t>(batch_);
  for (const yolo::Image* im : images)
    whole = whole && im && !im->View().empty() && im->source_width > 0 && im->source_height > 0;
  if (!whole) {  // a partial batch (or an image DetectDecoded refuses): one by one at batch 1
    for (size_t i = 0; i < k; ++i) {
      results.push_back(images[i] ? DetectDecoded(*images[i], names[i], options)
                                  : InvalidArgument(names[i] + ": no image"));
      batch_times_[i] = times_;
    }
    return results;
  }
  const size_t plane = input_.size(), out = output_.size();
  std::vector<yolo::Letterbox> lbs(k);
  for (size_t i = 0; i < k; ++i) {
    const auto t0 = Clock::now();
    lbs[i] = yolo::LetterboxToTensor(images[i]->View(), images[i]->source_width,
                                     images[i]->source_height, in_w_, in_h_,
                                     batch_input_.data() + i * plane, &scratch_);
    batch_times_[i].pre_ms = Ms(t0, Clock::now());
  }
  const auto t1 = Clock::now();
  Status run = batch_backend_->Run(batch_input_.data(), batch_output_.data());
  const double model_ms = Ms(t1, Clock::now()) / static_cast<double>(k);
  for (size_t i = 0; i < k; ++i) {
    batch_times_[i].model_ms = model_ms;
    if (!run.ok()) {
      results.push_back(run.WithContext(names[i]));
      continue;
    }
    const auto t2 = Clock::now();
    results.push_back(Post(batch_output_.data() + i * out, lbs[i], names[i], options));
    batch_times_[i].post_ms = Ms(t2, Clock::now());
  }
  times_ = batch_times_.back();
  return results;
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
  if (batch_ > 1) d += " batch " + std::to_string(batch_);
  return d;
}

}  // namespace vqi::infer
