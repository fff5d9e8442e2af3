// The "smoothed" checkpoint choice: the validated epoch whose fitness, averaged with the two
// validations before it, is the highest so far (ties: the later). One validation on a small
// validation part moves by several points between neighbouring epochs; a trailing mean of three
// prefers an epoch inside a good stretch over a single lucky peak (docs/design/training.md,
// "Cross-validation").
#pragma once

#include <deque>
#include <string>

namespace vqi::train {

inline constexpr int kSmoothWindow = 3;

// Ultralytics' fitness, the one `best` uses: 0.1 mAP50 + 0.9 mAP50-95.
inline double Fitness(double map50, double map50_95) { return 0.1 * map50 + 0.9 * map50_95; }

class SmoothedBest {
 public:
  // Adds the fitness of the next validated epoch; true when its trailing mean is the best so
  // far (the caller then writes that epoch's weights).
  bool Add(double fitness);
  // Rebuilds the history from a metrics.jsonl written by earlier invocations (for --resume):
  // every line with "map50" and "map50_95" is one validation. A missing log is an empty
  // history; lines that are not JSON objects are skipped.
  void Replay(const std::string& metrics_path);

 private:
  std::deque<double> window_;
  double best_ = -1;
};

}  // namespace vqi::train
