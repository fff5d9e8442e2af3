// Procedural metal tags with scratches, for training when real data is scarce and for
// copy-paste style augmentation of real images. OpenCV core/imgproc only.
//
// Determinism: every function here draws randomness only from raw std::mt19937_64 output
// (never from std:: distributions, whose results differ between standard libraries), so the
// same seed gives the same pixels and boxes on every platform with the same OpenCV.
#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <random>
#include <vector>

#include "vqi/dataset/sample.h"

namespace vqi::dataset {

struct SynthOptions {
  int width = 450;
  int height = 300;
  uint64_t seed = 1;
  double defect_probability = 0.8;  // chance that a tag has at least one scratch
  int max_scratches = 4;            // scratches per defective tag: 1..max_scratches
};

struct SynthImage {
  cv::Mat bgr;             // CV_8UC3, options.height x options.width
  std::vector<Box> boxes;  // exact boxes of the drawn scratches, class 0; empty = good tag
};

// A brushed-metal tag (mounting hole, printed text, uneven lighting, sensor noise, blur) on a
// light background, with 0..max_scratches scratches. Deterministic in (options.seed, index).
// REQUIRES: width >= 64, height >= 64, max_scratches >= 1.
SynthImage SynthesizeTag(const SynthOptions& options, uint64_t index);

// Draws `count` scratches (thin bright polylines/curves, varied length, width, angle and
// contrast, sometimes clustered) onto `bgr` (CV_8UC3) in place and returns their exact boxes
// (class 0), each inside the image. Deterministic given the rng state. Each scratch's contrast
// (its strength towards white) is uniform in [min_contrast, 1] times 0.6..1 per segment; the
// rng draws are the same for any min_contrast.
inline constexpr double kDefaultScratchMinContrast = 0.5;
std::vector<Box> DrawScratches(cv::Mat& bgr, std::mt19937_64& rng, int count,
                               double min_contrast = kDefaultScratchMinContrast);

// As DrawScratches, but every scratch lies inside `region` (clipped to the image).
std::vector<Box> DrawScratchesIn(cv::Mat& bgr, std::mt19937_64& rng, int count,
                                 const cv::Rect& region,
                                 double min_contrast = kDefaultScratchMinContrast);

}  // namespace vqi::dataset
