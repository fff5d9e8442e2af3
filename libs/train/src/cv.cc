// CrossValidate: the recipe trained per fold and every checkpoint choice scored on the
// held-out fold with the checkpoint detector (the numbers `vqi model eval` gives).
#include "vqi/train/cv.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <string>

#include "vqi/base/file.h"
#include "vqi/eval/evaluate.h"
#include "vqi/model/checkpoint.h"
#include "vqi/train/checkpoint_detector.h"

namespace vqi::train {
namespace {

using Clock = std::chrono::steady_clock;

Json SpreadJson(const Spread& s) {
  return Json{{"mean", s.mean}, {"std", s.std}, {"min", s.min}, {"max", s.max}};
}

// Held-out mAP of one checkpoint, at evaluation settings (conf 0.001, NMS IoU 0.7, max 300).
Result<CheckpointScore> Score(const std::string& path, const std::string& choice, int epoch,
                              const std::vector<eval::EvalItem>& items, int threads) {
  VQI_ASSIGN_OR_RETURN(auto detector, OpenCheckpointDetector(path, threads));
  VQI_ASSIGN_OR_RETURN(eval::DetectorEvaluation ev,
                       eval::EvaluateDetector(*detector, items, {0.001f, 0.7f, 300, false}));
  if (!ev.failures.empty()) return ev.failures.front().WithContext(path);
  return CheckpointScore{choice, epoch, ev.report.map50, ev.report.map50_95};
}

std::vector<eval::EvalItem> EvalItems(const std::vector<dataset::Sample>& samples) {
  std::vector<eval::EvalItem> items;
  for (const auto& s : samples) {
    eval::EvalItem it{s.path, {}};
    for (const auto& b : s.boxes)
      it.ground_truth.push_back({b.x, b.y, b.x + b.w, b.y + b.h, b.class_id});
    items.push_back(std::move(it));
  }
  return items;
}

std::vector<std::string> Captures(const std::vector<dataset::Sample>& samples) {
  std::set<std::string> c;
  for (const auto& s : samples) c.insert(s.capture_id);
  return {c.begin(), c.end()};
}

}  // namespace

std::string CheckpointPath(const TrainSummary& s, const std::string& choice) {
  if (choice == "best") return s.best_checkpoint;
  if (choice == "last") return s.last_checkpoint;
  return s.smoothed_checkpoint;
}

Json FoldResult::ToJson() const {
  Json scores_json = Json::object();
  for (const auto& s : scores)
    scores_json[s.choice] = {{"epoch", s.epoch}, {"map50", s.map50}, {"map50_95", s.map50_95}};
  return Json{{"fold", fold},
              {"train_images", train_images},
              {"val_images", val_images},
              {"test_images", test_images},
              {"test_captures", test_captures},
              {"epochs", summary.epochs},
              {"seconds", summary.seconds},
              {"images_per_sec", summary.images_per_sec},
              {"out_dir", summary.out_dir},
              {"val_best",
               {{"epoch", summary.best_epoch},
                {"map50", summary.best_map50},
                {"map50_95", summary.best_map50_95}}},
              {"test", scores_json}};
}

Spread CvReport::Map50(const std::string& choice) const {
  std::vector<double> v;
  for (const auto& r : results)
    for (const auto& s : r.scores)
      if (s.choice == choice) v.push_back(s.map50);
  return SpreadOf(v);
}

Spread CvReport::Map50_95(const std::string& choice) const {
  std::vector<double> v;
  for (const auto& r : results)
    for (const auto& s : r.scores)
      if (s.choice == choice) v.push_back(s.map50_95);
  return SpreadOf(v);
}

Json CvReport::ToJson(const CvOptions& o) const {
  Json choices = Json::object();
  for (const auto& c : CheckpointChoices())
    choices[c] = {{"map50", SpreadJson(Map50(c))}, {"map50_95", SpreadJson(Map50_95(c))}};
  Json per_fold = Json::array();
  for (const auto& r : results) per_fold.push_back(r.ToJson());
  Json recipe = o.train.ToJson();
  recipe.erase("out_dir");
  return Json{{"folds", folds},
              {"folds_done", static_cast<int>(results.size())},
              {"images", images},
              {"captures", captures},
              {"val_fraction", o.val_fraction},
              {"split_seed", o.split_seed},
              {"synthetic_train", o.synthetic_train},
              {"source", o.source},
              {"out_dir", o.train.out_dir},
              {"seconds", seconds},
              {"recipe", recipe},
              {"test", choices},
              {"per_fold", per_fold}};
}

Result<CvReport> CrossValidate(const CvOptions& o, const std::vector<dataset::Sample>& labelled,
                               const std::function<void(const FoldResult&)>& on_fold) {
  const auto t0 = Clock::now();
  if (!(o.val_fraction >= 0 && o.val_fraction <= kMaxValFraction))
    return InvalidArgument("--val-fraction " + std::to_string(o.val_fraction) + " is outside [0, " +
                           std::to_string(kMaxValFraction) + "]");
  if (o.train.resume) return InvalidArgument("cross-validation does not resume (--resume)");
  if (o.train.out_dir.empty()) return InvalidArgument("cross-validation needs an output folder");
  VQI_ASSIGN_OR_RETURN(std::vector<int> fold, AssignFolds(labelled, o.folds, o.split_seed));

  CvReport report;
  report.folds = o.folds;
  report.images = static_cast<int>(labelled.size());
  report.captures = static_cast<int>(Captures(labelled).size());
  for (int k = 0; k < o.folds; ++k) {
    const std::string where = "fold " + std::to_string(k + 1) + "/" + std::to_string(o.folds);
    FoldParts parts = MakeFoldParts(labelled, fold, k, o.val_fraction, o.split_seed);
    TrainOptions to = o.train;
    to.out_dir = o.train.out_dir + "/fold-" + std::to_string(k + 1);
    TrainData d;
    d.train = parts.train;
    d.val = parts.val;
    d.synthetic_train = o.synthetic_train;
    d.source = o.source + " cv " + where;
    auto summary = Train(to, d);
    if (!summary.ok()) return summary.status().WithContext(where);

    FoldResult r;
    r.fold = k + 1;
    r.train_images = static_cast<int>(parts.train.size());
    r.val_images = static_cast<int>(parts.val.size());
    r.test_images = static_cast<int>(parts.test.size());
    r.test_captures = Captures(parts.test);
    r.summary = *summary;
    const std::vector<eval::EvalItem> items = EvalItems(parts.test);
    for (const auto& choice : CheckpointChoices()) {
      const std::string path = CheckpointPath(*summary, choice);
      // Checkpoints of the same epoch of one run hold the same EMA weights: score them once.
      auto epoch = model::ReadCheckpoint(path);  // its epoch
      if (!epoch.ok()) return epoch.status().WithContext(where + " " + choice);
      auto same = std::find_if(r.scores.begin(), r.scores.end(),
                               [&](const CheckpointScore& s) { return s.epoch == epoch->epoch; });
      if (same != r.scores.end()) {
        CheckpointScore copy = *same;
        copy.choice = choice;
        r.scores.push_back(copy);
        continue;
      }
      auto score = Score(path, choice, epoch->epoch, items, o.train.threads);
      if (!score.ok()) return score.status().WithContext(where + " " + choice);
      r.scores.push_back(*score);
    }
    VQI_RETURN_IF_ERROR(WriteFileAtomic(to.out_dir + "/cv_fold.json", r.ToJson().dump(2) + "\n"));
    report.results.push_back(std::move(r));
    report.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    VQI_RETURN_IF_ERROR(
        WriteFileAtomic(o.train.out_dir + "/cv.json", report.ToJson(o).dump(2) + "\n"));
    if (on_fold) on_fold(report.results.back());
  }
  return report;
}

}  // namespace vqi::train
