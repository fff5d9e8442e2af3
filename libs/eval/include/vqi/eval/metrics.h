// COCO-style detection metrics (AP with 101-point interpolation at IoU 0.50:0.05:0.95),
// precision/recall/F1 at a confidence and PR-curve data, for detections from any model.
//
// Matching follows pycocotools (COCOeval, area "all", no crowd boxes, no per-image cap on
// detections): per image and class, detections are visited by score (descending, ties in
// input order); each takes the still-unmatched ground-truth box of its class with the highest
// IoU >= threshold (ties go to the later box, as in pycocotools) and each ground-truth box is
// matched at most once; this is done independently at each of the 10 IoU thresholds.
// Detections on images without ground truth of their class are false positives. Classes
// without any ground truth are left out of every mean.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/eval/detector.h"

namespace vqi::eval {

// A ground-truth box in image pixels (corners).
struct GtBox {
  float x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  int class_id = 0;
};

inline constexpr int kNumIouThresholds = 10;  // 0.50, 0.55, ..., 0.95
inline constexpr int kNumRecallPoints = 101;  // recall 0.00, 0.01, ..., 1.00
inline constexpr int kNumConfPoints = 101;    // confidence 0.00, 0.01, ..., 1.00

// The IoU threshold of index t in [0, kNumIouThresholds) and the recall point r, computed as
// numpy.linspace does in pycocotools (so recalls exactly on a grid point compare the same way).
double IouThreshold(int t);
double RecallPoint(int r);

// IoU in double precision; 0 for an empty union.
double BoxIoU(const GtBox& gt, const Detection& det);

struct EvalOptions {
  float conf_threshold = 0.25f;  // for precision / recall / F1 (at IoU 0.50)
};

struct ClassMetrics {
  int class_id = 0;
  std::string name;
  int num_gt = 0;
  int num_detections = 0;
  bool has_gt = false;  // false: all AP fields are 0 and the class is not in the means
  std::array<double, kNumIouThresholds> ap{};  // AP at each IoU threshold
  double ap50 = 0, ap75 = 0, ap50_95 = 0;
  // At EvalOptions::conf_threshold and IoU 0.50. precision = 0 when nothing reaches the
  // threshold; f1 = 0 when precision + recall = 0.
  int tp = 0, fp = 0;
  double precision = 0, recall = 0, f1 = 0;
  // PR curve at IoU 0.50: interpolated precision at each recall point and the score of the
  // detection where that precision is reached (0 where recall is never reached).
  std::array<double, kNumRecallPoints> pr_precision{};
  std::array<double, kNumRecallPoints> pr_score{};
  // Precision, recall and F1 (IoU 0.50) when keeping detections with score >= i / 100.
  std::array<double, kNumConfPoints> conf_precision{}, conf_recall{}, conf_f1{};
};

struct EvalReport {
  int num_images = 0;
  int num_gt = 0;
  int num_detections = 0;
  int num_classes_with_gt = 0;
  float conf_threshold = 0.25f;
  // Means over classes with ground truth (0 when there is none).
  double map50 = 0, map75 = 0, map50_95 = 0;
  double precision = 0, recall = 0;
  double f1 = 0;  // harmonic mean of the mean precision and the mean recall
  std::vector<ClassMetrics> classes;
};

// Accumulates images, then computes the metrics. Only per-detection match flags are kept,
// so memory grows with the number of detections, not with images. Thread-compatible.
class Evaluator {
 public:
  explicit Evaluator(std::vector<std::string> class_names);

  // Matches one image's detections against its ground truth. InvalidArgument naming `image`,
  // the box index and the field for a class id outside the class list, a non-finite
  // coordinate or score, or x2 < x1 / y2 < y1; nothing is added then.
  Status AddImage(std::span<const GtBox> ground_truth, std::span<const Detection> detections,
                  const std::string& image = "image");

  EvalReport Compute(const EvalOptions& options = {}) const;

  int num_images() const { return num_images_; }
  const std::vector<std::string>& class_names() const { return class_names_; }

 private:
  struct Record {
    float score;
    uint32_t image;
    uint32_t index;    // position in the image's detection list
    uint16_t matched;  // bit t: true positive at IoU threshold t
  };
  std::vector<std::string> class_names_;
  std::vector<std::vector<Record>> records_;  // per class
  std::vector<int> num_gt_;                   // per class
  int num_images_ = 0;
};

// The report as JSON: summary numbers, per-class metrics, and (if `curves`) PR and
// confidence curves.
OrderedJson ReportToJson(const EvalReport& report, bool curves = true);

// A short human-readable table (one line per class plus the means).
std::string FormatReport(const EvalReport& report);

}  // namespace vqi::eval
