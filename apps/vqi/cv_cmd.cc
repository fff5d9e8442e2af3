// `vqi model cv`: K-fold cross-validation of a training recipe, grouped by capture
// (libs/train cv.h). The recipe flags are train's (train_flags.h).
#include <cstdio>
#include <limits>
#include <memory>
#include <string>

#include "cli.h"
#include "train_flags.h"
#include "vqi/dataset/store.h"
#include "vqi/train/cv.h"

namespace vqi::cli {
namespace {

struct CvFlags {
  TrainFlags recipe;
  int folds = 5;
  double val_fraction = 0.2;
  uint64_t fold_seed = 42;
};

std::string Cell(const train::CheckpointScore& s) {
  char b[64];
  std::snprintf(b, sizeof b, "%.3f/%.3f@%d", s.map50, s.map50_95, s.epoch);
  return b;
}

void PrintText(const train::CvReport& r, const train::CvOptions& o) {
  std::printf("%d-fold cross-validation over %d labelled images (%d captures), %s\n", r.folds,
              r.images, r.captures, o.source.c_str());
  std::printf("%-5s %5s %4s %4s %6s %7s", "fold", "train", "val", "test", "epochs", "seconds");
  for (const auto& c : train::CheckpointChoices())
    std::printf("  %-18s", (c + " 50/50-95@ep").c_str());
  std::printf("\n");
  for (const auto& f : r.results) {
    std::printf("%-5d %5d %4d %4d %6d %7.0f", f.fold, f.train_images, f.val_images, f.test_images,
                f.summary.epochs, f.summary.seconds);
    for (const auto& s : f.scores) std::printf("  %-18s", Cell(s).c_str());
    std::printf("\n");
  }
  std::printf("held-out folds, mean ± std (min–max):\n");
  for (const auto& c : train::CheckpointChoices()) {
    const train::Spread a = r.Map50(c), b = r.Map50_95(c);
    std::printf("  %-9s mAP50 %.3f ± %.3f (%.3f–%.3f)   mAP50-95 %.3f ± %.3f (%.3f–%.3f)\n",
                c.c_str(), a.mean, a.std, a.min, a.max, b.mean, b.std, b.min, b.max);
  }
  std::printf("%.0f s; report: %s/cv.json\n", r.seconds, o.train.out_dir.c_str());
}

Status RunCv(const Context& ctx, CvFlags& f) {
  KeepFreedMemory();
  VQI_RETURN_IF_ERROR(ApplyRecipeFlags(ctx, f.recipe));
  train::CvOptions o;
  o.train = f.recipe.o;
  if (o.train.out_dir.empty()) o.train.out_dir = ctx.home + "/runs/cv";
  o.folds = f.folds;
  o.val_fraction = f.val_fraction;
  o.split_seed = f.fold_seed;
  o.synthetic_train = f.recipe.synthetic;
  const std::string& name = f.recipe.dataset;
  VQI_ASSIGN_OR_RETURN(auto store, dataset::Store::Open(ctx.home, name, /*create=*/false));
  VQI_ASSIGN_OR_RETURN(std::vector<dataset::Sample> labelled, store->LabeledSamples());
  if (labelled.empty())
    return FailedPrecondition("dataset '" + name +
                              "' has no labelled images to cross-validate (import labelled "
                              "data first)");
  auto names = store->ClassNames();
  if (!names.empty()) o.train.model.class_names = names;
  o.source =
      "dataset " + name +
      (o.synthetic_train > 0 ? " + synthetic " + std::to_string(o.synthetic_train) : std::string());
  std::fprintf(stderr, "cross-validating %s %dx%d, %d folds over %zu labelled images, out %s\n",
               o.train.model.scale.c_str(), o.train.model.input_w, o.train.model.input_h, o.folds,
               labelled.size(), o.train.out_dir.c_str());
  auto on_fold = [&](const train::FoldResult& r) {
    std::fprintf(stderr, "fold %d/%d: %d epochs, held-out", r.fold, o.folds, r.summary.epochs);
    for (const auto& s : r.scores)
      std::fprintf(stderr, " %s %.3f/%.3f", s.choice.c_str(), s.map50, s.map50_95);
    std::fprintf(stderr, "\n");
  };
  VQI_ASSIGN_OR_RETURN(train::CvReport r, train::CrossValidate(o, labelled, on_fold));
  if (ctx.json)
    std::printf("%s\n", r.ToJson(o).dump(2).c_str());
  else
    PrintText(r, o);
  return Status::Ok();
}

const bool kRegistered = Register([](CLI::App& app, Context& ctx) {
  CLI::App& model = Noun(app, "model", "Train, evaluate and run detectors");
  auto* cmd = model.add_subcommand(
      "cv",
      "Cross-validate a training recipe: K folds grouped by capture, the recipe trained per "
      "fold, held-out mAP of the best/last/smoothed checkpoints, mean and spread");
  auto f = std::make_shared<CvFlags>();
  f->recipe.o.out_dir.clear();
  AddRecipeFlags(cmd, &f->recipe);
  cmd->add_option("--folds", f->folds, "folds (each held out once)")
      ->capture_default_str()
      ->check(InRange(2, train::kMaxFolds));
  cmd->add_option("--val-fraction", f->val_fraction,
                  "share of each fold's training images (grouped by capture) that validates, "
                  "for the best/smoothed choices")
      ->capture_default_str()
      ->check(InRange(0.0, train::kMaxValFraction));
  cmd->add_option("--fold-seed", f->fold_seed, "seed of the fold and validation assignment")
      ->capture_default_str()
      ->check(InRange<uint64_t>(0, std::numeric_limits<uint64_t>::max()));
  cmd->add_option("--out", f->recipe.o.out_dir,
                  "output folder: fold-<k>/ runs and cv.json (default <home>/runs/cv)")
      ->check(NonEmpty());
  cmd->callback([&ctx, f] { Exit(RunCv(ctx, *f)); });
});

}  // namespace
}  // namespace vqi::cli
