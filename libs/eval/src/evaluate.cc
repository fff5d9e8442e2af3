#include "vqi/eval/evaluate.h"

#include <chrono>

namespace vqi::eval {

Result<DetectorEvaluation> EvaluateDetector(Detector& detector, std::span<const EvalItem> items,
                                            const DetectOptions& detect, const EvalOptions& options,
                                            const std::function<void(int, int)>& progress) {
  DetectorEvaluation out;
  Evaluator evaluator(detector.ClassNames());
  const int total = static_cast<int>(items.size());
  for (int i = 0; i < total; ++i) {
    const EvalItem& item = items[i];
    const auto start = std::chrono::steady_clock::now();
    Result<std::vector<Detection>> dets = detector.Detect(item.path, detect);
    out.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!dets.ok()) {
      out.failures.push_back(dets.status());
    } else {
      VQI_RETURN_IF_ERROR(evaluator.AddImage(item.ground_truth, *dets, item.path));
    }
    if (progress) progress(i + 1, total);
  }
  out.report = evaluator.Compute(options);
  return out;
}

}  // namespace vqi::eval
