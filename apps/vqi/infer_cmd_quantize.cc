// `vqi model quantize`: post-training static int8 quantization of an ONNX model to standard QDQ;
// the work (calibration on real images, writing, the mAP change) is libs/quantize's.
#include <cstdio>
#include <filesystem>

#include "cli.h"
#include "eval_cmd.h"
#include "vqi/base/json.h"
#include "vqi/detect/open.h"
#include "vqi/quantize/quantize.h"

namespace vqi::cli {
namespace {

struct QuantizeArgs {
  std::string model, out, calib, split = "default", calib_part = "train", eval_part = "val",
                                 eval_images, backend = "auto";
  int max_images = 256;
  std::vector<std::string> keep_float;
  bool no_eval = false;
  onnx::QuantizeOptions options;
};

Status RunQuantize(const QuantizeArgs& a, const Context& ctx) {
  detect::RegisterAvailableBackends();
  quantize::QuantizeRequest q;
  q.model = a.model;
  q.out = a.out;
  q.keep_float = a.keep_float;
  q.options = a.options;
  q.threads = ctx.threads;
  q.backend = a.backend;
  // --calib: a folder of images, else a dataset store name (its split part).
  const bool from_store = !std::filesystem::is_directory(a.calib);
  if (from_store) {
    q.calib.home = ctx.home;
    q.calib.dataset = a.calib;
    q.calib.split = a.split;
    q.calib.part = a.calib_part;
  } else {
    q.calib.folder = a.calib;
  }
  q.calib.max_images = a.max_images;
  if (!a.no_eval && !a.eval_images.empty()) {
    q.evaluate = EvalSourceOf(ctx, a.eval_images, "", "", "");
  } else if (!a.no_eval && from_store) {
    q.evaluate = EvalSourceOf(ctx, "", a.calib, a.split, a.eval_part);
  }
  VQI_ASSIGN_OR_RETURN(quantize::QuantizeResult r, quantize::Quantize(q, [](int done, int total) {
                         std::fprintf(stderr, "\rcalibrating: %d/%d images", done, total);
                       }));
  std::fprintf(stderr, "\n");
  for (const Status& s : r.skipped)  // a bad calibration image is skipped, and said
    std::fprintf(stderr, "warning: %s (skipped)\n", s.ToString().c_str());
  for (const std::string& w : r.non_finite)
    std::fprintf(stderr, "warning: tensor %s were non-finite (ignored)\n", w.c_str());
  Json j = {{"model", a.model},
            {"out", a.out},
            {"bytes_fp32", r.bytes_fp32},
            {"bytes_int8", r.bytes_int8},
            {"convs", r.convs},
            {"activation_groups", r.groups},
            {"calibration_images", r.calibration_images},
            {"method", a.options.method},
            {"seconds", r.seconds}};
  std::printf(
      "wrote %s: %zu -> %zu bytes (%.1f%%), %d convs int8 (per-channel), %zu activation "
      "groups, %s calibration on %d images, %.1f s\n",
      a.out.c_str(), r.bytes_fp32, r.bytes_int8, 100.0 * r.bytes_int8 / r.bytes_fp32, r.convs,
      r.groups, a.options.method.c_str(), r.calibration_images, r.seconds);
  if (r.map50)
    ReportMap50Change(*r.map50, "int8",
                      a.eval_images.empty() ? a.split + "/" + a.eval_part : a.eval_images, &j);
  if (ctx.json) std::printf("%s\n", j.dump(2).c_str());
  return Status::Ok();
}

const bool kRegistered = Register([](CLI::App& app, Context& ctx) {
  CLI::App& model = Noun(app, "model", "Train, evaluate and run detectors");
  auto* a = new QuantizeArgs();  // lives for the process
  auto* cmd = model.add_subcommand(
      "quantize",
      "Write an int8 QDQ model (post-training static quantization) calibrated on "
      "images, and report the mAP change on the validation split");
  cmd->add_option("--model", a->model, "ONNX model (float32 weights)")->required();
  cmd->add_option("--calib", a->calib, "calibration images: a folder, or a dataset store name")
      ->required();
  cmd->add_option("--out", a->out, "ONNX file to write")->required();
  cmd->add_option("--split", a->split, "split snapshot (dataset calibration)")
      ->capture_default_str();
  cmd->add_option("--calib-part", a->calib_part, "split part to calibrate on")
      ->capture_default_str();
  cmd->add_option("--eval-part", a->eval_part, "split part the mAP change is measured on")
      ->capture_default_str();
  cmd->add_option("--eval-images", a->eval_images, "folder with YOLO labels: measure mAP50 on it");
  cmd->add_flag("--no-eval", a->no_eval, "skip the mAP comparison");
  cmd->add_option("--max-images", a->max_images, "calibration images used (evenly spaced; 0: all)")
      ->check(InRange(0, 1000000))
      ->capture_default_str();
  cmd->add_option("--keep-float", a->keep_float,
                  "Conv node names to leave in float (the DFL decoder always is)")
      ->delimiter(',');
  cmd->add_option("--method", a->options.method, "minmax | percentile")->capture_default_str();
  cmd->add_option("--percentile", a->options.percentile, "percentile of |x| (method percentile)")
      ->check(InRange(0.0, 100.0))
      ->capture_default_str();
  cmd->add_option("--backend", a->backend, "backend for the mAP comparison")->capture_default_str();
  cmd->callback([a, &ctx] { Exit(RunQuantize(*a, ctx)); });
});

}  // namespace
}  // namespace vqi::cli
