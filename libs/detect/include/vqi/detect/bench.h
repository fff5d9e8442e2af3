// Benchmarking as a use case: per-stage latency (read, decode, pre, model, post) of an ONNX model
// on a folder of images, single stream (what `vqi bench infer` prints), and the share of each
// image's time spent outside the model.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/detect/open.h"

namespace vqi::detect {

struct BenchOptions {
  int warmup = 5;  // untimed runs first, >= 0
  int iters = 0;   // timed runs; 0: max(#images, 20)
  float conf = 0.25f;
  bool reduced_decode = true;  // JPEG DCT scaling toward the model input (false: full size)
  // Throughput mode: read + decode + pre of the next image on a second thread while the model
  // runs the current one (OnnxDetector::Prepare/RunPrepared). Per-image stage times are still
  // each image's own; images/s shows the overlap.
  bool pipeline = false;
  // Batch mode (1..64): each timed run reads and decodes `batch` images and runs them as one
  // model run (OnnxDetector::DetectBatch); per image: read, decode, pre, post its own, model the
  // batch run / batch. warmup and iters count runs (batches). Not with `pipeline`.
  int batch = 1;
};

struct StageLatency {
  double p50 = 0, p95 = 0;  // milliseconds
};

struct BenchResult {
  std::string backend, details, detector;
  int threads = 0;
  size_t images = 0;  // in the folder (cycled)
  size_t iters = 0;   // timed images that succeeded (runs x batch)
  int batch = 1;
  int warmup = 0;
  int failures = 0;
  std::vector<Status> errors;  // the first few failures
  double images_per_s = 0;
  double mean_detections = 0;
  // read, decode, pre, model, post, total; "beyond" = total - model (all but the model)
  std::map<std::string, StageLatency> stages;
  // Per image, (total - model) / total and (decode + pre + post) / total: median and p95.
  StageLatency share_beyond_model, share_decode_pre_post;
};

// Errors: bad options, no images, a model that does not open, no image that runs.
Result<BenchResult> BenchInfer(const std::string& onnx_model, const std::string& images,
                               const ModelOptions& model, const BenchOptions& options);

}  // namespace vqi::detect
