// Training a YOLOv8-style detector from scratch with libtorch (the header is torch-free).
//
// Train() runs the whole loop: augmentation on prefetching worker threads, AdamW/SGD with
// warm-up and cosine/linear decay, EMA weights, gradient clipping, validation mAP (libs/eval)
// and a checkpoint per epoch in options.out_dir:
//   last.safetensors  EMA weights + metadata (vqi/model/checkpoint.h), every epoch
//   best.safetensors  the epoch with the best validation fitness (ties: later)
//   smoothed.safetensors  the epoch with the best mean fitness of itself and the two
//                     validations before it (ties: later)
//   last.state        model, EMA and optimizer state for --resume (torch::save archive)
//   metrics.jsonl     one JSON object per epoch
// With the same seed, thread count and data, two runs give identical weights.
// See docs/design/training.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/dataset/sample.h"
#include "vqi/model/config.h"

namespace vqi::train {

// Limits on training options, checked by Train() before anything is allocated and by
// `vqi model train` for its flags (docs/limits.md, "Models, training").
inline constexpr int kMaxEpochs = 100000;
inline constexpr int kMaxBatch = 1024;
// Batch images x input pixels: bounds the input tensor (12 bytes a pixel, 3 GiB at the limit)
// before activations, e.g. 16 x 4096x4096 or 1024 x 512x512.
inline constexpr int64_t kMaxBatchPixels = int64_t{1} << 28;
inline constexpr int kMaxWorkers = 64;
inline constexpr int kMaxReplicas = 64;
inline constexpr int kMaxSyntheticImages = 1000000;
inline constexpr double kMaxLearningRate = 10;
inline constexpr double kMaxTimeLimitMin = 525600;  // a year

struct TrainOptions {
  model::ModelConfig model;
  int epochs = 100;
  int batch = 16;
  double time_limit_min = 0;  // > 0: stop (and shorten the schedule) to fit this budget
  std::string out_dir = "runs/train";
  bool resume = false;
  uint64_t seed = 0;
  int threads = 0;  // torch intra-op threads, 1..kMaxThreads; 0 = all available cores
  int workers = 2;  // batches prepared ahead on worker threads, 1..kMaxWorkers
  // Data-parallel model replicas, 0..kMaxReplicas (0 = auto: one per thread while each part
  // has at least 8 images, see ReplicaCount()): the batch is split across them, each runs
  // forward and backward on its own thread with threads / replicas intra-op threads, the
  // gradients are summed; BatchNorm uses each part's own statistics (as PyTorch DDP) and the
  // running statistics of the first part.
  int replicas = 0;
  std::string init_weights;  // checkpoint to start from (e.g. pretrained on synthetic tags)
  // Speed (docs/design/training.md, "End-to-end throughput"): channels-last (NHWC) weights and
  // activations, oneDNN's native layout; precision fp32, or bf16 = the Conv-BN-SiLU convolutions of
  // the forward pass in bfloat16 (needs AVX512-BF16); their backward, the loss, gradients and
  // weights stay fp32.
  bool channels_last = true;
  std::string precision = "fp32";

  std::string optimizer = "adamw";  // adamw | sgd
  double lr0 = 0.002;
  double lrf = 0.01;                // final lr = lr0 * lrf
  std::string schedule = "cosine";  // cosine | linear
  double momentum = 0.937;          // SGD momentum / AdamW beta1
  double weight_decay = 5e-4;
  double warmup_epochs = 3;
  double grad_clip = 10.0;
  double ema_decay = 0.9999;
  double ema_tau = 2000;  // EMA warm-up (updates)
  // > 0: the EMA's averaging horizon in epochs (EmaDecay()): Ultralytics' 0.9999 / 2000 updates
  // assume thousands of steps per epoch; on a set of a few hundred images they leave the EMA
  // at the raw weights for most of the run. 0: ema_decay / ema_tau as they are.
  double ema_epochs = 0;
  double box_gain = 7.5, cls_gain = 0.5, dfl_gain = 1.5;

  // Augmentation.
  double mosaic = 1.0;
  int close_mosaic = 10;  // last epochs without mosaic
  double scratch = 0.5;   // probability of synthetic scratches per image
  int max_scratches = 2;
  // The faintest synthetic scratch: contrast uniform in [scratch_min_contrast, 1]
  // (dataset::DrawScratches; 1 = fully towards white).
  double scratch_min_contrast = 0.5;
  double fliplr = 0.5, flipud = 0.5;
  double hsv_h = 0.015, hsv_s = 0.7, hsv_v = 0.4;
  double translate = 0.1, scale = 0.5;

  int val_every = 5;  // validate every n epochs, and every epoch in the last quarter
  bool progress = true;
  bool verbose = true;  // one log line per epoch

  Json ToJson() const;
};

struct TrainData {
  std::vector<dataset::Sample> train, val;
  // > 0: add this many synthesized tags (indices 0..n-1 of synthetic_seed) to the training set.
  int synthetic_train = 0;
  // > 0: validate on this many further synthesized tags; 0: use `val`, or the training
  // images when `val` is empty.
  int synthetic_val = 0;
  uint64_t synthetic_seed = 1;
  std::string split_digest;
  std::string source;  // e.g. "store default/split default", recorded in the train config
};

struct TrainSummary {
  std::string out_dir;
  std::string best_checkpoint, last_checkpoint, metrics_log;
  std::string smoothed_checkpoint;  // see "smoothed" in vqi/train/cv.h
  int epochs = 0;                   // epochs trained (in total, across resumes)
  int best_epoch = 0;
  double best_map50 = 0, best_map50_95 = 0;
  double seconds = 0;         // wall time of this invocation
  double images_per_sec = 0;  // training images per second (augmentation included)
  Json ToJson() const;
};

// Training throughput without data loading: images/s of `steps` timed steps of forward,
// loss, backward and an SGD step at `batch` on random inputs with a few boxes each (after one
// untimed step). `threads` <= 0: all available cores. `channels_last`: weights and input in
// NHWC, as Train() runs by default.
Result<double> MeasureTrainStep(const model::ModelConfig& cfg, int batch, int steps, int threads,
                                bool channels_last = false);

// The EMA decay after `updates` updates, `steps_per_epoch` updates per epoch: Ultralytics'
// d = decay * (1 - exp(-updates / tau)). With o.ema_epochs = H > 0, decay becomes
// min(o.ema_decay, 1 - 1 / (H * steps_per_epoch)) (an average over about H epochs) and tau
// min(o.ema_tau, H * steps_per_epoch), so the horizon is H epochs on a small set and
// Ultralytics' on a large one.
double EmaDecay(const TrainOptions& o, int steps_per_epoch, double updates);

// The number of replicas Train() uses for `o` with `threads` intra-op threads in all:
// o.replicas when set, else the automatic choice (docs/design/training.md), never more than
// the batch or the threads.
int ReplicaCount(const TrainOptions& o, int threads);

// InvalidArgument for bad options or no training images; DataLoss when --resume state is
// damaged; errors from reading images name the file.
Result<TrainSummary> Train(const TrainOptions& options, const TrainData& data);

}  // namespace vqi::train
