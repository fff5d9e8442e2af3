// Timing of NMS on a YOLOv8-sized candidate set (8,400 boxes at 640x640) and of the
// metrics on a validation-sized run. Prints one line per case.
#include <chrono>
#include <cstdio>
#include <random>

#include "vqi/eval/metrics.h"
#include "vqi/eval/nms.h"

namespace {

using Clock = std::chrono::steady_clock;

std::vector<vqi::eval::Detection> Candidates(std::mt19937_64& rng, int n, int classes) {
  std::uniform_real_distribution<float> pos(0, 600), size(4, 120), score(0, 1);
  std::uniform_int_distribution<int> cls(0, classes - 1);
  std::vector<vqi::eval::Detection> c(n);
  for (auto& d : c) {
    d.x1 = pos(rng);
    d.y1 = pos(rng);
    d.x2 = d.x1 + size(rng);
    d.y2 = d.y1 + size(rng);
    d.score = score(rng);
    d.class_id = cls(rng);
  }
  return c;
}

}  // namespace

int main() {
  std::mt19937_64 rng(1);
  for (int classes : {1, 80}) {
    auto c = Candidates(rng, 8400, classes);
    for (int max_det : {300, 0}) {
      const int reps = 20;
      size_t kept = 0;
      const auto t0 = Clock::now();
      for (int r = 0; r < reps; ++r) kept = vqi::eval::NmsIndices(c, {0.7f, max_det, false}).size();
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / reps;
      std::printf("nms 8400 candidates, %d classes, max_det %d: %.2f ms (%zu kept)\n", classes,
                  max_det, ms, kept);
    }
  }
  vqi::eval::Evaluator ev({"scratch"});
  std::vector<vqi::eval::GtBox> gt(3);
  const auto t0 = Clock::now();
  for (int i = 0; i < 1000; ++i) {
    auto dets = Candidates(rng, 300, 1);
    for (int k = 0; k < 3; ++k) gt[k] = {dets[k].x1, dets[k].y1, dets[k].x2, dets[k].y2, 0};
    if (!ev.AddImage(gt, dets).ok()) return 1;
  }
  const auto t1 = Clock::now();
  const vqi::eval::EvalReport r = ev.Compute();
  const auto t2 = Clock::now();
  std::printf(
      "metrics, 1000 images x 300 detections x 3 boxes: add %.1f ms, compute %.1f ms "
      "(mAP50 %.3f)\n",
      std::chrono::duration<double, std::milli>(t1 - t0).count(),
      std::chrono::duration<double, std::milli>(t2 - t1).count(), r.map50);
  return 0;
}
