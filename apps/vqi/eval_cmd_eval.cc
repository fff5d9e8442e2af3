// `vqi model eval`: runs a model over a dataset split (or a folder with YOLO labels) and
// prints COCO-style mAP, P/R/F1 and timing; writes the JSON report.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <opencv2/imgcodecs.hpp>

#include "detectors.h"
#include "eval_cmd.h"
#include "vqi/base/file.h"
#include "vqi/base/progress.h"
#include "vqi/eval/evaluate.h"
#include "vqi/eval/yolo_labels.h"
#ifdef VQI_HAVE_DATASET
#include "vqi/dataset/store.h"
#endif

namespace vqi::cli {
namespace {

// Ground truth from YOLO label files; images that fail to decode are reported and skipped.
Result<std::vector<eval::EvalItem>> ItemsFromFolder(const std::string& dir, int* failed) {
  VQI_ASSIGN_OR_RETURN(std::vector<std::string> files, ListImages(dir));
  std::vector<eval::EvalItem> items;
  int with_labels = 0;
  for (const std::string& file : files) {
    eval::EvalItem item{file, {}};
    std::string label;
    for (const std::string& c : eval::YoloLabelCandidates(file))
      if (FileExists(c)) {
        label = c;
        break;
      }
    if (!label.empty()) {
      cv::Mat img;
      try {
        img = cv::imread(file, cv::IMREAD_UNCHANGED);
      } catch (const cv::Exception&) {
        img.release();
      }
      if (img.empty()) {
        std::fprintf(stderr, "error: %s: cannot decode image\n", file.c_str());
        ++*failed;
        continue;
      }
      VQI_ASSIGN_OR_RETURN(std::string text, ReadFile(label));
      VQI_ASSIGN_OR_RETURN(item.ground_truth,
                           eval::ParseYoloLabels(text, img.cols, img.rows, label));
      ++with_labels;
    }
    items.push_back(std::move(item));
  }
  if (with_labels == 0)
    return InvalidArgument(dir +
                           ": no YOLO label files found (labels/<name>.txt or beside the "
                           "images)");
  return items;
}

#ifdef VQI_HAVE_DATASET
// Ground truth from a split snapshot, with class ids mapped by name onto the model's classes.
Result<std::vector<eval::EvalItem>> ItemsFromStore(const Context& ctx, const EvalFlags& f,
                                                   const std::vector<std::string>& model_classes,
                                                   OrderedJson* source) {
  VQI_ASSIGN_OR_RETURN(auto store, dataset::Store::Open(ctx.home, f.dataset, /*create=*/false));
  VQI_ASSIGN_OR_RETURN(std::vector<dataset::Sample> samples, store->SplitSamples(f.split, f.part));
  if (samples.empty())
    return FailedPrecondition("part '" + f.part + "' of split '" + f.split + "' in dataset '" +
                              f.dataset + "' has no images (create one with `vqi dataset split`)");
  VQI_ASSIGN_OR_RETURN(std::string digest, store->SplitDigest(f.split));
  const std::vector<std::string> names = store->ClassNames();
  std::vector<int> to_model(names.size(), -1);
  for (size_t c = 0; c < names.size(); ++c) {
    for (size_t m = 0; m < model_classes.size(); ++m)
      if (model_classes[m] == names[c]) to_model[c] = static_cast<int>(m);
  }
  std::vector<eval::EvalItem> items;
  for (const dataset::Sample& s : samples) {
    eval::EvalItem item{s.path, {}};
    for (const dataset::Box& b : s.boxes) {
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
  *source = {
      {"dataset", f.dataset}, {"split", f.split}, {"part", f.part}, {"split_digest", digest}};
  return items;
}
#endif

}  // namespace

Status RunEval(const Context& ctx, const EvalFlags& f) {
  VQI_ASSIGN_OR_RETURN(auto detector, OpenDetector(f.model, {ctx.threads, f.backend}));
  const std::vector<std::string> classes = detector->ClassNames();
  std::vector<eval::EvalItem> items;
  OrderedJson source;
  int failed = 0;
  if (!f.images.empty()) {
    VQI_ASSIGN_OR_RETURN(items, ItemsFromFolder(f.images, &failed));
    source = {{"images", f.images}};
  } else {
#ifdef VQI_HAVE_DATASET
    VQI_ASSIGN_OR_RETURN(items, ItemsFromStore(ctx, f, classes, &source));
#else
    return FailedPrecondition("this build has no dataset store; use --images DIR");
#endif
  }
  std::fprintf(stderr, "evaluating %s on %zu images\n", detector->Describe().c_str(), items.size());
  ProgressBar bar(static_cast<int64_t>(items.size()), "eval");
  VQI_ASSIGN_OR_RETURN(eval::DetectorEvaluation ev,
                       eval::EvaluateDetector(*detector, items, f.detect, {f.pr_conf},
                                              [&](int done, int) { bar.Update(done); }));
  bar.Finish();
  for (const Status& s : ev.failures) std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
  failed += static_cast<int>(ev.failures.size());

  const eval::EvalReport& r = ev.report;
  const double ips = ev.seconds > 0 ? r.num_images / ev.seconds : 0;
  OrderedJson report;
  report["model"] = f.model;
  report["detector"] = detector->Describe();
  report["source"] = source;
  auto r6 = [](double v) { return std::round(v * 1e6) / 1e6; };
  report["detect"] = {{"conf", r6(f.detect.conf_threshold)},
                      {"iou", r6(f.detect.iou_threshold)},
                      {"max_det", f.detect.max_detections},
                      {"agnostic", f.detect.class_agnostic}};
  report["failed_images"] = failed;
  report["seconds"] = ev.seconds;
  report["images_per_second"] = ips;
  report["metrics"] = eval::ReportToJson(r);
  if (!f.report.empty()) VQI_RETURN_IF_ERROR(WriteFileAtomic(f.report, report.dump(1) + "\n"));

  if (ctx.json) {
    std::printf("%s\n", report.dump(1).c_str());
  } else {
    std::printf("%s", eval::FormatReport(r).c_str());
    std::printf("mAP50 %.4f  mAP50-95 %.4f  P %.4f  R %.4f  F1 %.4f (conf %.2f)\n", r.map50,
                r.map50_95, r.precision, r.recall, r.f1, f.pr_conf);
    std::printf("%.1f ms/image (%.1f images/s)%s%s\n", ips > 0 ? 1000 / ips : 0.0, ips,
                f.report.empty() ? "" : ", report: ", f.report.c_str());
  }
  if (r.num_classes_with_gt == 0)
    std::fprintf(stderr, "warning: no ground-truth boxes: mAP is undefined (reported as 0)\n");
  if (failed) {
    std::fprintf(stderr, "error: %d images failed (left out of the metrics)\n", failed);
    ExitCode(1);
  }
  return Status::Ok();
}

Result<double> EvalMap50(const Context& ctx, EvalFlags f, const std::string& scratch_prefix) {
  f.detect.conf_threshold = 0.001f;
  f.report = scratch_prefix + ".eval-" + std::to_string(getpid()) + ".json";
  Status st = RunEval(ctx, f);
  auto r = st.ok() ? ReadJsonFile(f.report) : Result<Json>(st);
  std::remove(f.report.c_str());
  if (!r.ok()) return r.status();
  if (!r->contains("metrics") || !(*r)["metrics"].contains("map50"))
    return Internal(f.report + ": no metrics.map50");
  return (*r)["metrics"]["map50"].get<double>();
}

}  // namespace vqi::cli
