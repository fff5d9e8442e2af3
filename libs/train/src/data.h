// Training data in memory, augmentation (OpenCV) and the prefetching batch loader. No libtorch
// here (fast to compile). Private to libs/train.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <future>
#include <opencv2/core.hpp>
#include <random>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/dataset/sample.h"
#include "vqi/eval/detector.h"
#include "vqi/eval/metrics.h"
#include "vqi/yolo/image.h"

namespace vqi::train {

struct LabeledImage {
  std::string name;
  cv::Mat bgr;                      // CV_8UC3, original size
  std::vector<dataset::Box> boxes;  // pixels, (x, y) top-left
};

// Decodes every sample's image (format from content). InvalidArgument naming the file.
Result<std::vector<LabeledImage>> LoadImages(const std::vector<dataset::Sample>& samples);
// Tags from the procedural synthesizer, indices [first, first + count).
std::vector<LabeledImage> SynthesizeImages(int count, uint64_t first, uint64_t seed);

struct AugmentOptions {
  double mosaic = 1.0;   // probability of a 2x2 mosaic
  double scratch = 0.5;  // probability of drawing 1..max_scratches synthetic scratches
  int max_scratches = 2;
  double scratch_min_contrast = 0.5;  // dataset::DrawScratches
  double fliplr = 0.5, flipud = 0.5;
  double hsv_h = 0.015, hsv_s = 0.7, hsv_v = 0.4;
  double translate = 0.1, scale = 0.5;
};

// Pixel layout of a network input: RGB planes (NCHW) or interleaved RGB (NHWC, the
// channels-last layout the trainer feeds libtorch without a copy).
enum class Layout { kChw, kHwc };

// A network input: H x W RGB in [0, 1] in `layout`, and boxes as (class, x1, y1, x2, y2) in
// input pixels.
struct InputImage {
  std::vector<float> pixels;
  std::vector<std::array<float, 5>> boxes;
};

// CPU seconds spent in each augmentation stage (the epoch profile, docs/design/training.md).
struct AugmentTimes {
  double scratch = 0;   // synthetic scratches (copy of the source + drawing)
  double resize = 0;    // source scaled to fit the input
  double compose = 0;   // mosaic or centered canvas (copies)
  double affine = 0;    // random scale/translate warp and box filtering
  double hsv = 0;       // HSV jitter
  double flip = 0;      // flips
  double to_float = 0;  // uint8 BGR HWC -> float RGB CHW
  void Add(const AugmentTimes& o);
  Json ToJson() const;
};

// pool[i] scaled to fit w x h with its boxes as (class, x1, y1, x2, y2): what augmentation
// computes for an image that gets no synthetic scratches, kept for the whole run (the set is
// small; the trainer keeps it when it fits kMaxScaledPoolBytes).
struct ScaledImage {
  cv::Mat img;
  std::vector<std::array<float, 5>> boxes;
};
inline constexpr int64_t kMaxScaledPoolBytes = int64_t{1} << 30;
std::vector<ScaledImage> ScalePool(const std::vector<LabeledImage>& pool, int w, int h);

// One augmented training image for pool[index]; deterministic in (seed, epoch, index), and the
// same with or without `scaled` (ScalePool(pool, w, h)), which only saves the resizing.
// `times` (optional) accumulates the CPU time of each stage.
InputImage AugmentOne(const std::vector<LabeledImage>& pool, int index, bool mosaic,
                      const AugmentOptions& o, int w, int h, uint64_t seed,
                      AugmentTimes* times = nullptr, Layout layout = Layout::kChw,
                      const std::vector<ScaledImage>* scaled = nullptr);

// The letterbox, pixel layout and output decoding are libs/yolo's (vqi/yolo/letterbox.h,
// vqi/yolo/decode.h): the same code the ONNX detector serves with.
inline yolo::ImageView ViewOf(const cv::Mat& bgr) {
  return {bgr.data, bgr.cols, bgr.rows, bgr.step};
}

std::vector<eval::GtBox> GroundTruth(const LabeledImage& im);

struct Batch {
  int size = 0;
  std::vector<float> images;   // size x 3 x h x w (kChw) or size x h x w x 3 (kHwc)
  std::vector<float> targets;  // T x 6: image index, class, x1, y1, x2, y2
  AugmentTimes times;          // worker CPU time spent building this batch, by stage
  double build_s = 0;          // CPU time of building it (one worker thread)
};

// Produces the batches of one epoch in order, building up to `prefetch` of them ahead on
// worker threads while the caller trains. Output is independent of thread timing.
class BatchLoader {
 public:
  BatchLoader(const std::vector<LabeledImage>* pool, std::vector<int> order, int batch, bool mosaic,
              const AugmentOptions& o, int w, int h, uint64_t seed, int prefetch,
              Layout layout = Layout::kChw, const std::vector<ScaledImage>* scaled = nullptr);
  ~BatchLoader();
  int num_batches() const { return num_batches_; }
  // The next batch; REQUIRES: fewer than num_batches() calls so far.
  Batch Next();

 private:
  Batch Build(int b) const;
  void Launch();

  const std::vector<LabeledImage>* pool_;
  std::vector<int> order_;
  int batch_, w_, h_;
  bool mosaic_;
  AugmentOptions o_;
  uint64_t seed_;
  int prefetch_;
  Layout layout_;
  const std::vector<ScaledImage>* scaled_;
  int num_batches_;
  int launched_ = 0;
  std::deque<std::future<Batch>> pending_;
};

// A per-(seed, a, b) deterministic generator, and uniform draws from raw output only.
std::mt19937_64 MakeRng(uint64_t seed, uint64_t a, uint64_t b);
double Uniform(std::mt19937_64& rng, double lo, double hi);

}  // namespace vqi::train
