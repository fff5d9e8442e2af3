#include "inference.h"

#include <opencv2/imgcodecs.hpp>

#include "guard.h"
#include "vqi/base/file.h"
#include "vqi/base/system.h"
#include "vqi/eval/metrics.h"
#include "vqi/eval/nms.h"
#include "vqi/train/checkpoint_detector.h"

namespace vqi::train {

Result<ValMetrics> Validate(Yolo& model, const std::vector<LabeledImage>& images, int batch) {
  torch::NoGradGuard ng;
  model->eval();
  const auto& cfg = model->config();
  eval::Evaluator ev(cfg.class_names);
  eval::DetectOptions dopt;
  dopt.conf_threshold = 0.001f;
  dopt.iou_threshold = 0.7f;
  dopt.max_detections = 300;
  const int n = model::NumAnchors(cfg), no = 4 + cfg.nc();
  for (size_t i = 0; i < images.size(); i += static_cast<size_t>(batch)) {
    size_t end = std::min(images.size(), i + static_cast<size_t>(batch));
    std::vector<float> in;
    std::vector<Letterbox> lbs;
    for (size_t j = i; j < end; ++j) {
      Letterbox lb;
      AppendChw(LetterboxImage(images[j].bgr, cfg.input_w, cfg.input_h, &lb), &in);
      lbs.push_back(lb);
    }
    auto x =
        torch::from_blob(in.data(), {static_cast<int64_t>(end - i), 3, cfg.input_h, cfg.input_w});
    auto out = model->Decode(model->forward(x)).contiguous();
    const float* p = out.data_ptr<float>();
    for (size_t j = i; j < end; ++j) {
      const auto& im = images[j];
      auto cand = DecodeOutput(p + (j - i) * static_cast<size_t>(no) * n, cfg.nc(), n, lbs[j - i],
                               im.bgr.cols, im.bgr.rows, dopt.conf_threshold);
      auto dets = eval::FilterAndNms(cand, dopt);
      auto gt = GroundTruth(im);
      VQI_RETURN_IF_ERROR(ev.AddImage(gt, dets, im.name));
    }
  }
  auto r = ev.Compute();
  return ValMetrics{r.map50, r.map50_95, r.precision, r.recall};
}

std::vector<eval::Detection> DetectImage(Yolo& model, const cv::Mat& bgr,
                                         const eval::DetectOptions& options) {
  torch::NoGradGuard ng;
  const auto& cfg = model->config();
  Letterbox lb;
  std::vector<float> in;
  AppendChw(LetterboxImage(bgr, cfg.input_w, cfg.input_h, &lb), &in);
  auto x = torch::from_blob(in.data(), {1, 3, cfg.input_h, cfg.input_w});
  auto out = model->Decode(model->forward(x)).contiguous();
  auto cand = DecodeOutput(out.data_ptr<float>(), cfg.nc(), model::NumAnchors(cfg), lb, bgr.cols,
                           bgr.rows, options.conf_threshold);
  return eval::FilterAndNms(cand, options);
}

namespace {

Result<cv::Mat> DecodeImageFile(const std::string& path) {
  VQI_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  cv::Mat m;
  try {
    m = cv::imdecode(cv::Mat(1, static_cast<int>(bytes.size()), CV_8UC1, bytes.data()),
                     cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    return InvalidArgument(path + ": cannot decode image: " + e.what());
  }
  if (m.empty()) return InvalidArgument(path + ": not a decodable image");
  return m;
}

Result<Yolo> BuildModel(const model::Checkpoint& ckpt) {
  Yolo m(ckpt.model);
  VQI_RETURN_IF_ERROR(ImportWeights(*m, ckpt.weights));
  m->eval();
  return m;
}

class CheckpointDetector : public eval::Detector {
 public:
  CheckpointDetector(Yolo m, int threads) : model_(std::move(m)), threads_(threads) {}
  Result<std::vector<eval::Detection>> Detect(const std::string& image_path,
                                              const eval::DetectOptions& options) override {
    VQI_ASSIGN_OR_RETURN(cv::Mat img, DecodeImageFile(image_path));
    // Sets this calling thread's OpenMP thread count (see docs/design/training.md).
    SetTorchThreads(threads_);
    return Guarded(image_path + ": inference", [&]() -> Result<std::vector<eval::Detection>> {
      return DetectImage(model_, img, options);
    });
  }
  std::vector<std::string> ClassNames() const override { return model_->config().class_names; }
  std::string Describe() const override {
    const auto& c = model_->config();
    return "checkpoint " + c.scale + " " + std::to_string(c.input_w) + "x" +
           std::to_string(c.input_h);
  }

 private:
  Yolo model_;
  int threads_;
};

}  // namespace

Result<std::unique_ptr<eval::Detector>> OpenCheckpointDetector(const std::string& path,
                                                               int threads) {
  if (threads != 0) VQI_RETURN_IF_ERROR(CheckThreadCount(threads, "threads"));
  VQI_ASSIGN_OR_RETURN(model::Checkpoint ckpt, model::ReadCheckpoint(path));
  auto m = Guarded(path, [&] { return BuildModel(ckpt); });
  if (!m.ok()) return m.status().WithContext(path);
  return std::unique_ptr<eval::Detector>(
      new CheckpointDetector(*m, threads > 0 ? threads : HardwareThreads()));
}

Result<std::vector<float>> ReferenceOutput0(const model::Checkpoint& ckpt,
                                            const std::vector<float>& input, int batch) {
  const auto& c = ckpt.model;
  if (batch < 1 || input.size() != static_cast<size_t>(batch) * 3 * c.input_h * c.input_w)
    return InvalidArgument("reference forward: input must be [" + std::to_string(batch) + ", 3, " +
                           std::to_string(c.input_h) + ", " + std::to_string(c.input_w) + "]");
  return Guarded("reference forward", [&]() -> Result<std::vector<float>> {
    VQI_ASSIGN_OR_RETURN(Yolo m, BuildModel(ckpt));
    torch::NoGradGuard ng;
    auto x = torch::from_blob(const_cast<float*>(input.data()), {batch, 3, c.input_h, c.input_w});
    auto out = m->Decode(m->forward(x)).contiguous();
    return std::vector<float>(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
  });
}

Result<std::vector<float>> PreprocessImage(const std::string& image_path,
                                           const model::ModelConfig& cfg) {
  VQI_ASSIGN_OR_RETURN(cv::Mat img, DecodeImageFile(image_path));
  std::vector<float> in;
  AppendChw(LetterboxImage(img, cfg.input_w, cfg.input_h, nullptr), &in);
  return in;
}

}  // namespace vqi::train
