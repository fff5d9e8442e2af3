#include "vqi/detect/evaluate.h"

#include <chrono>
#include <cmath>

#include "vqi/base/file.h"
#include "vqi/dataset/store.h"
#include "vqi/eval/evaluate.h"
#include "vqi/yolo/image.h"
#include "vqi/yolo/labels.h"

namespace vqi::detect {

namespace {

using Clock = std::chrono::steady_clock;

// A folder with YOLO labels: each image decoded once, for its size (label normalization) and
// for the detector.
Result<Evaluation> EvaluateFolder(eval::Detector& detector, const std::string& dir,
                                  const EvaluateOptions& o,
                                  const std::function<void(int, int)>& progress) {
  VQI_ASSIGN_OR_RETURN(std::vector<std::string> files, yolo::ListImages(dir));
  std::vector<std::string> labels(files.size());
  int with_labels = 0;
  for (size_t i = 0; i < files.size(); ++i)
    for (const std::string& c : yolo::YoloLabelCandidates(files[i]))
      if (FileExists(c)) {
        labels[i] = c;
        ++with_labels;
        break;
      }
  if (with_labels == 0)
    return InvalidArgument(dir +
                           ": no YOLO label files found (labels/<name>.txt or beside the "
                           "images)");
  Evaluation ev;
  ev.source = {{"images", dir}};
  eval::Evaluator evaluator(detector.ClassNames());
  const int total = static_cast<int>(files.size());
  for (int i = 0; i < total; ++i) {
    const std::string& file = files[i];
    const auto start = Clock::now();
    Result<yolo::Image> img = yolo::DecodeImageFile(file);
    if (!img.ok()) {
      ev.failures.push_back(img.status());
    } else {
      std::vector<eval::GtBox> gt;
      if (!labels[i].empty()) {
        VQI_ASSIGN_OR_RETURN(std::string text, ReadFile(labels[i]));
        VQI_ASSIGN_OR_RETURN(gt, yolo::ParseYoloLabels(text, img->width, img->height, labels[i]));
      }
      // The detector decodes the file its own way (ONNX: as vqi-inspect, see predict.cc).
      auto dets = detector.Detect(file, o.detect);
      if (!dets.ok()) {
        ev.failures.push_back(dets.status());
      } else {
        VQI_RETURN_IF_ERROR(evaluator.AddImage(gt, *dets, file));
      }
    }
    ev.seconds += std::chrono::duration<double>(Clock::now() - start).count();
    if (progress) progress(i + 1, total);
  }
  ev.report = evaluator.Compute({o.pr_conf});
  return ev;
}

// A split part of the dataset store, class ids mapped by name onto the model's classes.
Result<Evaluation> EvaluateSplit(eval::Detector& detector, const EvalSource& s,
                                 const EvaluateOptions& o,
                                 const std::function<void(int, int)>& progress) {
  VQI_ASSIGN_OR_RETURN(auto store, dataset::Store::Open(s.home, s.dataset, /*create=*/false));
  VQI_ASSIGN_OR_RETURN(std::vector<dataset::Sample> samples, store->SplitSamples(s.split, s.part));
  if (samples.empty())
    return FailedPrecondition("part '" + s.part + "' of split '" + s.split + "' in dataset '" +
                              s.dataset + "' has no images (create one with `vqi dataset split`)");
  VQI_ASSIGN_OR_RETURN(std::string digest, store->SplitDigest(s.split));
  const std::vector<std::string> names = store->ClassNames();
  const std::vector<std::string> model_classes = detector.ClassNames();
  std::vector<int> to_model(names.size(), -1);
  for (size_t c = 0; c < names.size(); ++c)
    for (size_t m = 0; m < model_classes.size(); ++m)
      if (model_classes[m] == names[c]) to_model[c] = static_cast<int>(m);
  std::vector<eval::EvalItem> items;
  for (const dataset::Sample& sample : samples) {
    eval::EvalItem item{sample.path, {}};
    for (const dataset::Box& b : sample.boxes) {
      int cls = b.class_id;
      if (cls >= 0 && cls < static_cast<int>(names.size())) {
        cls = to_model[cls];
        if (cls < 0)
          return InvalidArgument("dataset class '" + names[b.class_id] +
                                 "' is not one of the model's classes");
      }
      item.ground_truth.push_back({b.x, b.y, b.x + b.w, b.y + b.h, cls});
    }
    items.push_back(std::move(item));
  }
  VQI_ASSIGN_OR_RETURN(eval::DetectorEvaluation de,
                       eval::EvaluateDetector(detector, items, o.detect, {o.pr_conf}, progress));
  Evaluation ev;
  ev.report = std::move(de.report);
  ev.failures = std::move(de.failures);
  ev.seconds = de.seconds;
  ev.source = {
      {"dataset", s.dataset}, {"split", s.split}, {"part", s.part}, {"split_digest", digest}};
  return ev;
}

}  // namespace

Result<Evaluation> Evaluate(eval::Detector& detector, const EvalSource& source,
                            const EvaluateOptions& options,
                            const std::function<void(int, int)>& progress) {
  VQI_RETURN_IF_ERROR(ValidateDetectOptions(options.detect));
  if (!(options.pr_conf >= 0 && options.pr_conf <= 1))
    return InvalidArgument("pr-conf " + std::to_string(options.pr_conf) + ": accepted range 0..1");
  if (!source.images.empty()) return EvaluateFolder(detector, source.images, options, progress);
  return EvaluateSplit(detector, source, options, progress);
}

OrderedJson EvaluationJson(const Evaluation& ev, const std::string& model,
                           const std::string& detector, const EvaluateOptions& o) {
  const eval::EvalReport& r = ev.report;
  const double ips = ev.seconds > 0 ? r.num_images / ev.seconds : 0;
  auto r6 = [](double v) { return std::round(v * 1e6) / 1e6; };
  OrderedJson report;
  report["model"] = model;
  report["detector"] = detector;
  report["source"] = ev.source;
  report["detect"] = {{"conf", r6(o.detect.conf_threshold)},
                      {"iou", r6(o.detect.iou_threshold)},
                      {"max_det", o.detect.max_detections},
                      {"agnostic", o.detect.class_agnostic}};
  report["failed_images"] = ev.failures.size();
  report["seconds"] = ev.seconds;
  report["images_per_second"] = ips;
  report["metrics"] = eval::ReportToJson(r);
  return report;
}

Result<Map50Change> CompareMap50(const std::string& before, const std::string& after,
                                 const ModelOptions& model, const EvalSource& source) {
  Map50Change c;
  for (const auto& [path, out] : {std::pair{&before, &c.before}, std::pair{&after, &c.after}}) {
    VQI_ASSIGN_OR_RETURN(auto detector, OpenDetector(*path, model));
    VQI_ASSIGN_OR_RETURN(Evaluation ev, Evaluate(*detector, source, {}));
    if (!ev.failures.empty())
      return ev.failures.front().WithContext(*path + ": " + std::to_string(ev.failures.size()) +
                                             " images failed");
    *out = ev.report.map50;
  }
  return c;
}

}  // namespace vqi::detect
