#include "inference.h"

#include "guard.h"
#include "vqi/base/file.h"
#include "vqi/base/system.h"
#include "vqi/eval/metrics.h"
#include "vqi/eval/nms.h"
#include "vqi/train/checkpoint_detector.h"
#include "vqi/yolo/decode.h"
#include "vqi/yolo/image.h"
#include "vqi/yolo/letterbox.h"

namespace vqi::train {

Result<ValMetrics> Validate(Yolo& model, const std::vector<LabeledImage>& images, int batch,
                            ReplicaThread* helper) {
  torch::NoGradGuard ng;
  model->eval();
  const auto& cfg = model->config();
  eval::Evaluator ev(cfg.class_names);
  eval::DetectOptions dopt;
  dopt.conf_threshold = 0.001f;
  dopt.iou_threshold = 0.7f;
  dopt.max_detections = 300;
  const int n = model::NumAnchors(cfg), no = 4 + cfg.nc();
  // A model trained channels-last gets its input in that layout (no reorder per convolution).
  const auto first = model->parameters().front();
  const bool channels_last = first.dim() == 4 && !first.is_contiguous() &&
                             first.is_contiguous(torch::MemoryFormat::ChannelsLast);
  std::vector<std::vector<eval::Detection>> dets(images.size());
  // Detections of images [begin, end) in batches (a read-only use of the model: two threads
  // may run it at once).
  auto run = [&](size_t begin, size_t end_all) {
    torch::NoGradGuard ng_here;  // grad mode is per thread
    for (size_t i = begin; i < end_all; i += static_cast<size_t>(batch)) {
      size_t end = std::min(end_all, i + static_cast<size_t>(batch));
      const size_t plane = static_cast<size_t>(3) * cfg.input_h * cfg.input_w;
      std::vector<float> in((end - i) * plane);
      std::vector<yolo::Letterbox> lbs;
      std::vector<uint8_t> scratch;
      for (size_t j = i; j < end; ++j)
        lbs.push_back(yolo::LetterboxToTensor(ViewOf(images[j].bgr), cfg.input_w, cfg.input_h,
                                              in.data() + (j - i) * plane, &scratch));
      auto x =
          torch::from_blob(in.data(), {static_cast<int64_t>(end - i), 3, cfg.input_h, cfg.input_w});
      if (channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
      auto out = model->Decode(model->forward(x)).contiguous();
      const float* p = out.data_ptr<float>();
      for (size_t j = i; j < end; ++j) {
        // Validation scores what the model does: non-finite anchors (a diverging run) are
        // left out rather than failing the epoch.
        auto cand = yolo::DecodeOutput(p + (j - i) * static_cast<size_t>(no) * n, cfg.nc(), n,
                                       lbs[j - i], dopt.conf_threshold);
        dets[j] = eval::FilterAndNms(cand.candidates, dopt);
      }
    }
  };
  const size_t half = helper ? images.size() / 2 : 0;
  if (half > 0) helper->Start([&] { run(half, images.size()); });
  std::exception_ptr err;  // the helper uses this frame: wait for it before unwinding
  try {
    run(0, half > 0 ? half : images.size());
  } catch (...) {
    err = std::current_exception();
  }
  if (half > 0) helper->Wait();
  if (err) std::rethrow_exception(err);
  for (size_t j = 0; j < images.size(); ++j)
    VQI_RETURN_IF_ERROR(ev.AddImage(GroundTruth(images[j]), dets[j], images[j].name));
  auto r = ev.Compute();
  return ValMetrics{r.map50, r.map50_95, r.precision, r.recall};
}

Result<std::vector<eval::Detection>> DetectImage(Yolo& model, const yolo::ImageView& bgr,
                                                 const std::string& name,
                                                 const eval::DetectOptions& options) {
  torch::NoGradGuard ng;
  const auto& cfg = model->config();
  std::vector<float> in(static_cast<size_t>(3) * cfg.input_h * cfg.input_w);
  std::vector<uint8_t> scratch;
  const yolo::Letterbox lb =
      yolo::LetterboxToTensor(bgr, cfg.input_w, cfg.input_h, in.data(), &scratch);
  auto x = torch::from_blob(in.data(), {1, 3, cfg.input_h, cfg.input_w});
  auto out = model->Decode(model->forward(x)).contiguous();
  const int64_t n = model::NumAnchors(cfg);
  const yolo::Decoded d =
      yolo::DecodeOutput(out.data_ptr<float>(), cfg.nc(), n, lb, options.conf_threshold);
  VQI_RETURN_IF_ERROR(yolo::CheckFinite(d, n, "checkpoint on " + name));
  return eval::FilterAndNms(d.candidates, options);
}

namespace {

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
    VQI_ASSIGN_OR_RETURN(yolo::Image img, yolo::DecodeImageFile(image_path));
    return DetectImage(img.View(), image_path, options);
  }
  Result<std::vector<eval::Detection>> DetectImage(const yolo::ImageView& bgr,
                                                   const std::string& name,
                                                   const eval::DetectOptions& options) override {
    SetTorchThreads(threads_);  // this calling thread's count (docs/design/training.md)
    return Guarded(name + ": inference",
                   [&] { return train::DetectImage(model_, bgr, name, options); });
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
  VQI_ASSIGN_OR_RETURN(yolo::Image img, yolo::DecodeImageFile(image_path));
  std::vector<float> in(static_cast<size_t>(3) * cfg.input_h * cfg.input_w);
  std::vector<uint8_t> scratch;
  yolo::LetterboxToTensor(img.View(), cfg.input_w, cfg.input_h, in.data(), &scratch);
  return in;
}

}  // namespace vqi::train
