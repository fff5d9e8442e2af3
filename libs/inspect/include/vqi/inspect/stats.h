// Training statistics for the drift monitor, computed from image files (the train part of a
// split, or any folder) and optionally a model's outputs on them. `vqi inspect stats` calls it
// now; the model packaging (`vqi component from-model`) can ship its JSON beside model.onnx.
#pragma once

#include <string>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/eval/detector.h"
#include "vqi/inspect/drift.h"

namespace vqi::inspect {

struct StatsReport {
  TrainingStats stats;
  int images = 0;                    // used
  std::vector<std::string> skipped;  // files that did not decode or detect, with the reason
};

// Decodes each file once (libs/yolo, the device's decoder) and takes its input features; with
// `detector`, also the best score and the number of detections >= `score_threshold` (run at
// min(score_threshold, 0.001) like the device does below its threshold). A file that fails is
// listed in `skipped`, not fatal; InvalidArgument when none is usable.
Result<StatsReport> ComputeStatsForFiles(const std::vector<std::string>& files,
                                         eval::Detector* detector, float score_threshold);

}  // namespace vqi::inspect
