// K-fold cross-validation of a training recipe, grouped by capture (`vqi model cv`).
//
// The labelled images are divided into K folds; all images of one capture id fall in one fold.
// For fold k the recipe is trained on the other folds and scored on fold k (never seen in
// training or model selection). Inside a fold, the training folds are divided again, grouped by
// capture, into a training part and a validation part (`val_fraction`), which the trainer uses
// to choose `best.safetensors` and `smoothed.safetensors`; `last.safetensors` needs no
// validation. Every checkpoint choice is scored on the held-out fold, so one cv run compares
// the choices on the same trainings. See docs/design/training.md, "Cross-validation".
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/dataset/sample.h"
#include "vqi/train/train.h"

namespace vqi::train {

inline constexpr int kMaxFolds = 100;
inline constexpr double kMaxValFraction = 0.5;

// The held-out fold (0..folds-1) of each sample, index-aligned with `samples`. All samples of
// one capture id get the same fold. Captures are visited in the order of SHA-256(seed, capture
// id) (as `vqi dataset split` orders them) and each joins the fold holding the fewest images so
// far (ties: the lower index), so fold sizes differ by at most the largest capture's image
// count. Deterministic for a seed. InvalidArgument for folds outside [2, kMaxFolds], no
// samples, or fewer captures than folds.
Result<std::vector<int>> AssignFolds(const std::vector<dataset::Sample>& samples, int folds,
                                     uint64_t seed);

struct FoldParts {
  std::vector<dataset::Sample> train, val, test;
};

// The parts of fold `k`: test = the samples assigned fold k; the rest divided into train and
// val grouped by capture (dataset::AssignSplit with ratios 1 - val_fraction, val_fraction, 0
// and a seed derived from (seed, k)). val_fraction 0: val is empty. Input order is kept
// within each part.
FoldParts MakeFoldParts(const std::vector<dataset::Sample>& samples, const std::vector<int>& fold,
                        int k, double val_fraction, uint64_t seed);

// The checkpoint choices a cv run scores on each held-out fold, as files of the fold's run:
//   best      best.safetensors: the validated epoch with the best fitness
//   last      last.safetensors: the EMA weights after the last epoch
//   smoothed  smoothed.safetensors: the validated epoch with the best mean fitness of
//             itself and the two validations before it
inline const std::vector<std::string>& CheckpointChoices() {
  static const std::vector<std::string> kChoices{"best", "last", "smoothed"};
  return kChoices;
}

// The file of `choice` (one of CheckpointChoices()) in a run's summary.
std::string CheckpointPath(const TrainSummary& s, const std::string& choice);

struct CvOptions {
  TrainOptions train;  // the recipe; train.out_dir is the cv folder, fold k in <out>/fold-<k+1>
  int folds = 5;
  double val_fraction = 0.2;  // of each fold's training images, grouped by capture
  uint64_t split_seed = 0;    // seeds the fold and validation assignment
  int synthetic_train = 0;    // synthesized tags added to every fold's training part
  std::string source;         // recorded in the report, e.g. "dataset default"
};

// mean, sample standard deviation (n - 1; 0 for one value), min and max.
struct Spread {
  double mean = 0, std = 0, min = 0, max = 0;
};
Spread SpreadOf(const std::vector<double>& values);

struct CheckpointScore {
  std::string choice;  // one of CheckpointChoices()
  int epoch = 0;       // epoch of those weights (0 when unknown)
  double map50 = 0, map50_95 = 0;
};

struct FoldResult {
  int fold = 0;  // 1-based
  int train_images = 0, val_images = 0, test_images = 0;
  std::vector<std::string> test_captures;  // the held-out capture ids, sorted
  TrainSummary summary;
  std::vector<CheckpointScore> scores;  // held-out fold, in CheckpointChoices() order
  Json ToJson() const;
};

struct CvReport {
  int folds = 0;
  int images = 0, captures = 0;
  std::vector<FoldResult> results;
  double seconds = 0;
  // Per choice: the spread of the held-out mAP50 and mAP50-95 over the folds.
  Spread Map50(const std::string& choice) const;
  Spread Map50_95(const std::string& choice) const;
  Json ToJson(const CvOptions& options) const;
};

// Trains and scores every fold in turn; writes <out>/fold-<k>/ (the training run plus
// cv_fold.json) and <out>/cv.json after every fold. `labelled` are the dataset's labelled
// images; class ids index options.train.model.class_names. `on_fold` (optional) is called
// after each fold. Errors: bad options (before anything is written), training or evaluation
// errors naming the fold.
Result<CvReport> CrossValidate(const CvOptions& options,
                               const std::vector<dataset::Sample>& labelled,
                               const std::function<void(const FoldResult&)>& on_fold = {});

}  // namespace vqi::train
