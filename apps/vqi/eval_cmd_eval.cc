// `vqi model eval`: prints COCO-style mAP, P/R/F1 and timing of libs/detect's Evaluate on a
// dataset split (or a folder with YOLO labels); writes the JSON report.
#include <cstdio>

#include "eval_cmd.h"
#include "vqi/base/file.h"
#include "vqi/base/progress.h"
#include "vqi/detect/evaluate.h"
#include "vqi/detect/open.h"

namespace vqi::cli {

Status RunEval(const Context& ctx, const EvalFlags& f) {
  detect::RegisterAvailableBackends();
  detect::EvaluateOptions options;
  options.detect = f.detect;
  options.pr_conf = f.pr_conf;
  VQI_RETURN_IF_ERROR(detect::ValidateDetectOptions(f.detect));
  VQI_ASSIGN_OR_RETURN(auto detector, detect::OpenDetector(f.model, {ctx.threads, f.backend, f.precision}));
  const detect::EvalSource source = EvalSourceOf(ctx, f.images, f.dataset, f.split, f.part);
  std::fprintf(stderr, "evaluating %s\n", detector->Describe().c_str());
  std::unique_ptr<ProgressBar> bar;
  VQI_ASSIGN_OR_RETURN(detect::Evaluation ev,
                       detect::Evaluate(*detector, source, options, [&](int done, int total) {
                         if (!bar) bar = std::make_unique<ProgressBar>(total, "eval");
                         bar->Update(done);
                       }));
  if (bar) bar->Finish();
  for (const Status& s : ev.failures) std::fprintf(stderr, "error: %s\n", s.ToString().c_str());
  const OrderedJson report = detect::EvaluationJson(ev, f.model, detector->Describe(), options);
  if (!f.report.empty()) VQI_RETURN_IF_ERROR(WriteFileAtomic(f.report, report.dump(1) + "\n"));

  const eval::EvalReport& r = ev.report;
  const double ips = ev.seconds > 0 ? r.num_images / ev.seconds : 0;
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
  if (!ev.failures.empty()) {
    std::fprintf(stderr, "error: %zu images failed (left out of the metrics)\n",
                 ev.failures.size());
    ExitCode(1);
  }
  return Status::Ok();
}

}  // namespace vqi::cli
