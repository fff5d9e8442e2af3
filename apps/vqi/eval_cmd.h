// Shared by the `vqi model predict|eval` command files (apps/vqi/eval_cmd*.cc).
#pragma once

#include <string>
#include <vector>

#include "cli.h"
#include "vqi/base/status.h"
#include "vqi/eval/detector.h"

namespace vqi::cli {

struct PredictFlags {
  std::string model;
  std::string image;
  std::string images;
  std::string out;
  std::string backend = "auto";
  eval::DetectOptions detect;  // conf 0.25, iou 0.7, max 300
};

struct EvalFlags {
  std::string model;
  std::string dataset = "default";
  std::string split = "default";
  std::string part = "test";
  std::string images;
  std::string report;
  std::string backend = "auto";
  float pr_conf = 0.25f;
  eval::DetectOptions detect;  // conf 0.001 set at registration
};

Status RunPredict(const Context& ctx, const PredictFlags& flags);
Status RunEval(const Context& ctx, const EvalFlags& flags);

// mAP50 of `flags.model` as RunEval computes it (conf 0.001; the report goes to a temporary
// file beside `scratch_prefix` and is removed). For commands that compare two models.
Result<double> EvalMap50(const Context& ctx, EvalFlags flags, const std::string& scratch_prefix);

// The image files (jpg, jpeg, png, bmp, tif, tiff, webp; any case) directly in `dir`, sorted;
// if there are none but `dir`/images exists, those. InvalidArgument if `dir` is not a folder
// or holds no images.
Result<std::vector<std::string>> ListImages(const std::string& dir);

}  // namespace vqi::cli
