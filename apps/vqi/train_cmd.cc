// `vqi model train`: trains a detector on a dataset split (or synthesized tags) with
// libs/train.
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "cli.h"
#include "train_flags.h"
#include "vqi/dataset/store.h"
#include "vqi/registry/register.h"
#include "vqi/train/cv.h"
#include "vqi/train/train.h"

namespace vqi::cli {
namespace {

// "480x320" or "640" (square): "" and the sides in *w, *h, or why not. The model checks that
// the sides are multiples of 32.
std::string ParseSize(const std::string& s, int* w, int* h) {
  std::string ws = s, hs = s;
  if (auto x = s.find('x'); x != std::string::npos) {
    ws = s.substr(0, x);
    hs = s.substr(x + 1);
  }
  for (auto [side, text] : {std::pair{"width", &ws}, std::pair{"height", &hs}}) {
    std::string why = detail::CheckNumber(*text, 32, model::kMaxInputSide);
    if (!why.empty()) return s + ": " + side + " " + why + " (expected WxH, e.g. 480x320)";
  }
  *w = std::stoi(ws);
  *h = std::stoi(hs);
  return "";
}

CLI::Validator ImageSize() {
  return CLI::Validator(
      [](std::string& s) {
        int w, h;
        return ParseSize(s, &w, &h);
      },
      "WxH", "IMGSZ");
}

}  // namespace

// Batch activations are tens of MB: glibc serves them with mmap and unmaps them on free, so
// every step faults its memory in again (~300k page faults per run, system time 30-40 % of
// user time). Keeping freed memory in the heap raised the training step from 22 to 28 images/s
// (t) and 6.6 to 10.7 (n) at 480x320, batch 16 (docs/design/training.md). Set only when the
// caller did not tune malloc through GLIBC_TUNABLES.
void KeepFreedMemory() {
  if (std::getenv("GLIBC_TUNABLES") != nullptr) return;
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
}

Status ApplyRecipeFlags(const Context& ctx, TrainFlags& f) {
  train::TrainOptions& o = f.o;
  o.model.scale = f.scale;
  if (std::string why = ParseSize(f.imgsz, &o.model.input_w, &o.model.input_h); !why.empty())
    return InvalidArgument("--imgsz: " + why);
  o.threads = ctx.threads;
  o.channels_last = f.layout == "nhwc";
  return Status::Ok();
}

void AddRecipeFlags(CLI::App* cmd, TrainFlags* f) {
  using train::kMaxEpochs;
  cmd->add_option("--dataset", f->dataset, "dataset store name")
      ->capture_default_str()
      ->check(NonEmpty());
  cmd->add_option("--scale", f->scale, "model scale: t (tiny, CPU-first), n, s, m, l, x")
      ->capture_default_str();
  cmd->add_option("--imgsz", f->imgsz, "input WxH, multiples of 32")
      ->capture_default_str()
      ->check(ImageSize());
  cmd->add_option("--epochs", f->o.epochs, "epochs (at most: --time-limit fits fewer when needed)")
      ->capture_default_str()
      ->check(InRange(1, kMaxEpochs));
  cmd->add_option("--batch", f->o.batch, "batch size")
      ->capture_default_str()
      ->check(InRange(1, train::kMaxBatch));
  cmd->add_option("--time-limit", f->o.time_limit_min,
                  "minutes (0 = no limit); the schedule is shortened to fit")
      ->capture_default_str()
      ->check(InRange(0.0, train::kMaxTimeLimitMin));
  cmd->add_option("--seed", f->o.seed, "random seed")
      ->capture_default_str()
      ->check(InRange<uint64_t>(0, std::numeric_limits<uint64_t>::max()));
  cmd->add_option("--synthetic", f->synthetic,
                  "add N synthesized tags to the training images (train without --split: "
                  "train on them only, no store)")
      ->check(InRange(0, train::kMaxSyntheticImages));
  cmd->add_option("--init", f->o.init_weights, "initialize from a checkpoint (e.g. pretrained)")
      ->check(NonEmpty());
  cmd->add_option("--optimizer", f->o.optimizer, "adamw | sgd")->capture_default_str();
  cmd->add_option("--lr", f->o.lr0, "initial learning rate")
      ->capture_default_str()
      ->check(InRange(1e-8, train::kMaxLearningRate));
  cmd->add_option("--schedule", f->o.schedule, "cosine | linear")->capture_default_str();
  cmd->add_option("--warmup-epochs", f->o.warmup_epochs, "warm-up epochs")
      ->capture_default_str()
      ->check(InRange(0.0, double{kMaxEpochs}));
  cmd->add_option("--ema-epochs", f->o.ema_epochs,
                  "EMA averaging horizon in epochs (0 = Ultralytics' 0.9999 with a 2000-update "
                  "warm-up)")
      ->capture_default_str()
      ->check(InRange(0.0, double{kMaxEpochs}));
  cmd->add_option("--close-mosaic", f->o.close_mosaic, "last epochs without mosaic")
      ->capture_default_str()
      ->check(InRange(0, kMaxEpochs));
  cmd->add_option("--mosaic", f->o.mosaic, "mosaic probability")
      ->capture_default_str()
      ->check(InRange(0.0, 1.0));
  cmd->add_option("--scratch", f->o.scratch, "synthetic scratch probability per image")
      ->capture_default_str()
      ->check(InRange(0.0, 1.0));
  cmd->add_option("--scratch-min-contrast", f->o.scratch_min_contrast,
                  "faintest synthetic scratch (contrast uniform in [this, 1])")
      ->capture_default_str()
      ->check(InRange(0.01, 1.0));
  cmd->add_option("--workers", f->o.workers, "batches prepared ahead")
      ->capture_default_str()
      ->check(InRange(1, train::kMaxWorkers));
  cmd->add_option("--replicas", f->o.replicas,
                  "data-parallel model replicas, each on threads/replicas threads (0 = auto)")
      ->capture_default_str()
      ->check(InRange(0, train::kMaxReplicas));
  cmd->add_option("--precision", f->o.precision,
                  "fp32, or bf16: forward convolutions in bfloat16 (needs AVX512-BF16)")
      ->capture_default_str()
      ->check(CLI::IsMember({"fp32", "bf16"}));
  cmd->add_option("--layout", f->layout, "activation layout: nhwc (channels-last) or nchw")
      ->capture_default_str()
      ->check(CLI::IsMember({"nhwc", "nchw"}));
  cmd->add_option("--val-every", f->o.val_every,
                  "validate every n epochs (always in the last quarter)")
      ->capture_default_str()
      ->check(InRange(1, kMaxEpochs));
}

namespace {

Status RunTrain(const Context& ctx, TrainFlags& f, bool split_given) {
  KeepFreedMemory();
  VQI_RETURN_IF_ERROR(ApplyRecipeFlags(ctx, f));
  train::TrainOptions& o = f.o;
  if (o.out_dir.empty()) o.out_dir = ctx.home + "/runs/train";
  train::TrainData d;
  d.synthetic_train = f.synthetic;
  if (f.synthetic > 0 && !split_given) {
    d.synthetic_val = std::max(8, f.synthetic / 5);
    d.source = "synthetic " + std::to_string(f.synthetic);
    o.model.class_names = {"scratch"};
  } else {
    VQI_ASSIGN_OR_RETURN(auto store, dataset::Store::Open(ctx.home, f.dataset, /*create=*/false));
    VQI_ASSIGN_OR_RETURN(d.train, store->SplitSamples(f.split, "train"));
    VQI_ASSIGN_OR_RETURN(d.val, store->SplitSamples(f.split, "val"));
    VQI_ASSIGN_OR_RETURN(d.split_digest, store->SplitDigest(f.split));
    if (d.train.empty())
      return FailedPrecondition("split '" + f.split + "' of dataset '" + f.dataset +
                                "' has no training images (import data and create a split "
                                "with `vqi dataset split` first)");
    auto names = store->ClassNames();
    if (!names.empty()) o.model.class_names = names;
    d.source = "dataset " + f.dataset + " split " + f.split +
               (f.synthetic > 0 ? " + synthetic " + std::to_string(f.synthetic) : "");
  }
  std::fprintf(
      stderr, "training %s %dx%d on %zu+%d images (val %zu), out %s\n", o.model.scale.c_str(),
      o.model.input_w, o.model.input_h, d.train.size(), d.synthetic_train,
      d.synthetic_val > 0 ? static_cast<size_t>(d.synthetic_val) : d.val.size(), o.out_dir.c_str());
  VQI_ASSIGN_OR_RETURN(train::TrainSummary s, train::Train(o, d));
  // The checkpoint `vqi model register --run` takes by default: the recipe's choice.
  const std::string ship = train::CheckpointPath(s, registry::kDefaultRunCheckpoint);
  if (ctx.json) {
    Json j = s.ToJson();
    j["ship_checkpoint"] = ship;
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf(
        "trained %d epochs in %.0f s (%.2f images/s)\nbest epoch %d: mAP50 %.4f mAP50-95 %.4f "
        "(validation)\nbest checkpoint: %s\nlast checkpoint: %s\nsmoothed checkpoint: %s\n"
        "metrics: %s\ncheckpoint to ship (the recipe's choice, `vqi model register --run` "
        "takes it): %s\n",
        s.epochs, s.seconds, s.images_per_sec, s.best_epoch, s.best_map50, s.best_map50_95,
        s.best_checkpoint.c_str(), s.last_checkpoint.c_str(), s.smoothed_checkpoint.c_str(),
        s.metrics_log.c_str(), ship.c_str());
  }
  return Status::Ok();
}

const bool kRegistered = Register([](CLI::App& app, Context& ctx) {
  CLI::App& model = Noun(app, "model", "Train, evaluate and run detectors");
  auto* cmd = model.add_subcommand("train", "Train a detector from scratch (libtorch, CPU)");
  auto f = std::make_shared<TrainFlags>();
  f->o.out_dir.clear();
  AddRecipeFlags(cmd, f.get());
  auto* split = cmd->add_option("--split", f->split, "split snapshot (train/val parts are used)")
                    ->capture_default_str()
                    ->check(NonEmpty());
  cmd->add_option("--out", f->o.out_dir, "output folder (default <home>/runs/train)")
      ->check(NonEmpty());
  cmd->add_flag("--resume", f->o.resume, "continue from <out>/last.state");
  cmd->callback([&ctx, f, split] { Exit(RunTrain(ctx, *f, split->count() > 0)); });
});

}  // namespace
}  // namespace vqi::cli
