// Evaluation as a use case: score a detector on a part of a dataset split (ground truth from the
// dataset store, class ids mapped by name onto the model's classes) or on a folder of images
// with YOLO labels. Each image is read and decoded once.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/detect/open.h"
#include "vqi/eval/detector.h"
#include "vqi/eval/metrics.h"

namespace vqi::detect {

// Where the labelled images come from: `images` (a folder with YOLO labels in labels/ or
// beside the images) when set, else part `part` of split `split` of dataset `dataset` in the
// vqi home `home`.
struct EvalSource {
  std::string images;
  std::string home, dataset = "default", split = "default", part = "test";
};

struct EvaluateOptions {
  eval::DetectOptions detect = {0.001f, 0.7f, 300, false};  // evaluation's conf 0.001
  float pr_conf = 0.25f;  // confidence for precision / recall / F1
};

struct Evaluation {
  eval::EvalReport report;
  OrderedJson source;            // {"images": dir} or {"dataset", "split", "part", "split_digest"}
  std::vector<Status> failures;  // images left out of the metrics (e.g. undecodable)
  double seconds = 0;            // decode + detect
};

// Runs `detector` over the source. `progress(done, total)` after each image. Errors: bad
// options, a source that cannot be read (no images, no labels at all, an empty split part, a
// dataset class the model does not have), bad label lines (naming file and line).
Result<Evaluation> Evaluate(eval::Detector& detector, const EvalSource& source,
                            const EvaluateOptions& options,
                            const std::function<void(int done, int total)>& progress = {});

// The JSON report `vqi model eval --report` writes.
OrderedJson EvaluationJson(const Evaluation& ev, const std::string& model,
                           const std::string& detector, const EvaluateOptions& options);

// mAP50 of two models on the same source at conf 0.001 (each opened with `model`): what
// `vqi model optimize` and `vqi model quantize` report as the accuracy change.
struct Map50Change {
  double before = 0, after = 0;
};
Result<Map50Change> CompareMap50(const std::string& before, const std::string& after,
                                 const ModelOptions& model, const EvalSource& source);

}  // namespace vqi::detect
