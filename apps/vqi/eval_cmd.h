// Shared by the `vqi model predict|eval` command files (apps/vqi/eval_cmd*.cc): flags only; the
// work is libs/detect's.
#pragma once

#include <string>

#include "cli.h"
#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/detect/evaluate.h"
#include "vqi/eval/detector.h"

namespace vqi::cli {

struct PredictFlags {
  std::string model;
  std::string image;
  std::string images;
  std::string out;
  std::string backend = "auto";
  std::string precision = "auto";
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
  std::string precision = "auto";
  float pr_conf = 0.25f;
  eval::DetectOptions detect;  // conf 0.001 set at registration
};

Status RunPredict(const Context& ctx, const PredictFlags& flags);
Status RunEval(const Context& ctx, const EvalFlags& flags);

// The evaluation source of --images DIR, else --dataset/--split/--part in the vqi home.
detect::EvalSource EvalSourceOf(const Context& ctx, const std::string& images,
                                const std::string& dataset, const std::string& split,
                                const std::string& part);

// Prints "mAP50 on <on>: float32 a, <variant> b, change c" and records map50_fp32,
// map50_<variant>, map50_change in `j`: what `model optimize` and `model quantize` report.
void ReportMap50Change(const detect::Map50Change& c, const std::string& variant,
                       const std::string& on, Json* j);

}  // namespace vqi::cli
