// `vqi model predict`: detections as JSON lines on stdout, and with --out a predictions.json
// and annotated copies of the images (libs/detect's PredictFiles does the work).
#include <cstdio>

#include "eval_cmd.h"
#include "vqi/detect/open.h"
#include "vqi/detect/predict.h"

namespace vqi::cli {

Status RunPredict(const Context& ctx, const PredictFlags& f) {
  detect::RegisterAvailableBackends();
  VQI_RETURN_IF_ERROR(detect::ValidateDetectOptions(f.detect));
  VQI_ASSIGN_OR_RETURN(std::vector<std::string> files, detect::PredictInputs(f.image, f.images));
  VQI_ASSIGN_OR_RETURN(auto detector, detect::OpenDetector(f.model, {ctx.threads, f.backend, f.precision}));
  detect::PredictOptions options;
  options.detect = f.detect;
  options.out_dir = f.out;
  VQI_ASSIGN_OR_RETURN(
      detect::PredictSummary sum,
      detect::PredictFiles(*detector, files, options, [](const detect::ImagePrediction& p) {
        if (!p.status.ok()) {
          std::fprintf(stderr, "error: %s\n", p.status.ToString().c_str());
          return;
        }
        std::printf("%s\n", p.entry.dump().c_str());
        std::fflush(stdout);
      }));
  if (!sum.predictions_file.empty())
    std::fprintf(stderr, "wrote %s and annotated images\n", sum.predictions_file.c_str());
  const std::string failures = sum.failed ? ", " + std::to_string(sum.failed) + " failed" : "";
  std::fprintf(stderr, "%s: %d images, %zu detections, %.1f ms/image%s\n", sum.detector.c_str(),
               sum.images, sum.detections, sum.images ? 1000.0 * sum.seconds / sum.images : 0.0,
               failures.c_str());
  if (sum.failed) ExitCode(1);
  return Status::Ok();
}

}  // namespace vqi::cli
