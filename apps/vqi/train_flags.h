// The training recipe flags shared by `vqi model train` and `vqi model cv` (train_cmd.cc):
// one parser, so a recipe option means the same in both verbs.
#pragma once

#include <string>

#include "cli.h"
#include "vqi/train/train.h"

namespace vqi::cli {

struct TrainFlags {
  std::string dataset = "default";
  std::string split = "default";
  std::string scale = "t";
  std::string imgsz = "480x320";
  int synthetic = 0;
  std::string layout = "nhwc";  // --layout: nhwc (channels-last) | nchw
  train::TrainOptions o;
};

// --dataset, --scale, --imgsz, --epochs, --batch, --time-limit, --seed, --synthetic, --init,
// --optimizer, --lr, --schedule, --warmup-epochs, --close-mosaic, --mosaic, --scratch,
// --workers, --precision, --layout, --val-every, each with its range.
void AddRecipeFlags(CLI::App* cmd, TrainFlags* f);

// Puts --scale, --imgsz and the global --threads into f.o (InvalidArgument for a bad size).
Status ApplyRecipeFlags(const Context& ctx, TrainFlags& f);

// Keeps freed memory in the heap (mallopt), unless GLIBC_TUNABLES is set: batch activations
// are then reused instead of being unmapped and faulted in again every step.
void KeepFreedMemory();

}  // namespace vqi::cli
