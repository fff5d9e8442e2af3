// Drift: does what the device sees (inputs) and says (outputs) still look like the training
// split? Per feature, the two-sample Kolmogorov-Smirnov statistic between a sliding window of
// device images and the training distribution (stored as 101 percentiles). Method and its
// reasons: docs/design/inspect.md, "Drift monitor". Pure logic, no I/O beyond (de)serializing.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/eval/detector.h"
#include "vqi/inspect/result.h"

namespace vqi::inspect {

enum Feature : int {
  kBrightness = 0,  // mean luma, 0..255
  kContrast,        // luma standard deviation
  kWidth,
  kHeight,
  kBestScore,  // highest detection confidence (0 when none)
  kBoxCount,   // detections >= the score threshold
  kNumFeatures
};
const char* FeatureName(int feature);  // "brightness", ...

// One image's features; outputs (best score, box count) are optional: training statistics
// computed without a model hold the input features only.
struct FeatureRow {
  std::array<double, kNumFeatures> v{};
  bool has_outputs = false;
};

// Brightness and contrast of the luma (299 R + 587 G + 114 B) / 1000 over every 4th pixel of
// every 4th row; width and height. REQUIRES: !image.empty().
FeatureRow ImageFeatures(const eval::ImageView& image);

struct FeatureStats {
  std::string name;
  int64_t count = 0;
  double mean = 0, stddev = 0;
  std::vector<double> percentiles;  // 101 values: 0th..100th (linear interpolation)
};

struct TrainingStats {
  std::vector<FeatureStats> features;  // inputs always; outputs when every row had them
  Json ToJson() const;
  // InvalidArgument naming `where` and the field for a malformed document.
  static Result<TrainingStats> FromJson(const Json& j, const std::string& where);
  const FeatureStats* Find(int feature) const;
};

// InvalidArgument when `rows` is empty.
Result<TrainingStats> ComputeTrainingStats(const std::vector<FeatureRow>& rows);

// sup |F_window - F_train| with F_train read off the percentiles (piecewise linear).
// REQUIRES: `sorted_window` sorted ascending and non-empty, 101 percentiles ascending.
double KsStatistic(const std::vector<double>& sorted_window,
                   const std::vector<double>& percentiles);

// c(alpha) * sqrt((n + m) / (n * m)), c(alpha) = sqrt(-ln(alpha / 2) / 2).
double KsCriticalValue(double alpha, int64_t n, int64_t m);

// Thread-compatible.
class DriftMonitor {
 public:
  DriftMonitor(TrainingStats stats, int window, int min_window, double alpha);
  // Adds one image; the report once the window holds min_window images, else nullopt.
  std::optional<DriftReport> Add(const FeatureRow& row);
  // The last report's per-feature D / D_crit (NaN for features not compared).
  const std::array<double, kNumFeatures>& Scores() const { return scores_; }

 private:
  TrainingStats stats_;
  size_t window_, min_window_;
  double alpha_;
  std::deque<FeatureRow> rows_;
  std::array<double, kNumFeatures> scores_{};
};

}  // namespace vqi::inspect
