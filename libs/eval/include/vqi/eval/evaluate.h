// Runs a Detector over labeled images and scores it: what `vqi model eval` and validation
// during training do.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/eval/detector.h"
#include "vqi/eval/metrics.h"

namespace vqi::eval {

struct EvalItem {
  std::string path;                 // image file the detector reads
  std::vector<GtBox> ground_truth;  // class ids in the detector's class list
};

struct DetectorEvaluation {
  EvalReport report;
  // Images the detector failed on (e.g. undecodable files), in input order; they are left
  // out of the report.
  std::vector<Status> failures;
  double seconds = 0;  // wall time of the Detect() calls
};

// Calls detector.Detect(item.path, detect) for every item and accumulates the metrics
// (classes = detector.ClassNames()). `progress(done, total)` is called after each image.
// Per-image detector errors are collected in `failures`; bad ground truth or a malformed
// detection (a class id outside the detector's classes, a non-finite or inverted box) is
// returned as InvalidArgument naming the image.
Result<DetectorEvaluation> EvaluateDetector(Detector& detector, std::span<const EvalItem> items,
                                            const DetectOptions& detect,
                                            const EvalOptions& options = {},
                                            const std::function<void(int, int)>& progress = {});

}  // namespace vqi::eval
