// `vqi bench infer`: per-stage latency of the ONNX pipeline (libs/detect's BenchInfer).
#include <cstdio>

#include "cli.h"
#include "vqi/base/json.h"
#include "vqi/detect/bench.h"

namespace vqi::cli {
namespace {

struct BenchArgs {
  std::string model, images, backend = "auto", precision = "auto";
  int threads = 0;
  detect::BenchOptions options;
};

Status RunBench(const BenchArgs& a, const Context& ctx) {
  detect::RegisterAvailableBackends();
  const int threads = a.threads > 0 ? a.threads : ctx.threads;
  VQI_ASSIGN_OR_RETURN(
      detect::BenchResult r,
      detect::BenchInfer(a.model, a.images, {threads, a.backend, a.precision}, a.options));
  for (size_t i = 0; i < r.errors.size() && i < 3; ++i)
    std::fprintf(stderr, "error: %s\n", r.errors[i].ToString().c_str());
  static const char* kStages[] = {"read", "decode", "pre", "model", "post", "total", "beyond"};
  if (ctx.json) {
    Json j = {{"model", a.model},
              {"backend", r.backend},
              {"details", r.details},
              {"threads", r.threads},
              {"images", r.images},
              {"iters", r.iters},
              {"warmup", r.warmup},
              {"failures", r.failures},
              {"images_per_s", r.images_per_s},
              {"decode", a.options.reduced_decode ? "reduced" : "full"},
              {"pipeline", a.options.pipeline},
              {"batch", r.batch},
              {"share_beyond_model",
               {{"p50", r.share_beyond_model.p50}, {"p95", r.share_beyond_model.p95}}},
              {"share_decode_pre_post",
               {{"p50", r.share_decode_pre_post.p50}, {"p95", r.share_decode_pre_post.p95}}},
              {"mean_detections", r.mean_detections}};
    for (const char* s : kStages)
      j["stages_ms"][s] = {{"p50", r.stages[s].p50}, {"p95", r.stages[s].p95}};
    std::printf("%s\n", j.dump(2).c_str());
    return Status::Ok();
  }
  std::printf(
      "model %s (%s)\nbackend %s: %s\n%zu images, %d warm-up, %zu timed images, %d failed\n",
      a.model.c_str(), r.detector.c_str(), r.backend.c_str(), r.details.c_str(), r.images, r.warmup,
      r.iters, r.failures);
  std::printf("%-8s %10s %10s\n", "stage", "p50 ms", "p95 ms");
  for (const char* s : kStages)
    std::printf("%-8s %10.3f %10.3f\n", s, r.stages[s].p50, r.stages[s].p95);
  std::printf("(beyond = total - model: read + decode + pre + post)\n");
  std::printf(
      "share of each image's time beyond the model: p50 %.1f %%, p95 %.1f %%; decode + "
      "pre + post: p50 %.1f %%, p95 %.1f %% (%s JPEG decode)\n",
      100 * r.share_beyond_model.p50, 100 * r.share_beyond_model.p95,
      100 * r.share_decode_pre_post.p50, 100 * r.share_decode_pre_post.p95,
      a.options.reduced_decode ? "reduced" : "full-size");
  const std::string mode = r.batch > 1 ? "batch " + std::to_string(r.batch) +
                                             ": one model run per " + std::to_string(r.batch) +
                                             " images, model = the run / " + std::to_string(r.batch)
                           : a.options.pipeline
                               ? "pipelined: the next image prepared while the model runs"
                               : "single stream";
  std::printf("throughput %.2f images/s (%s, %d model thread(s))\n", r.images_per_s, mode.c_str(),
              r.threads);
  return Status::Ok();
}

const bool kRegistered = Register([](CLI::App& app, Context& ctx) {
  CLI::App& bench = Noun(app, "bench", "Measure performance");
  auto* a = new BenchArgs();  // lives for the process
  auto* cmd = bench.add_subcommand(
      "infer", "Per-stage latency (read, decode, pre, model, post) of an ONNX model on a folder");
  cmd->add_option("--model", a->model, "ONNX model")->required();
  cmd->add_option("--images", a->images, "folder of images (cycled)")->required();
  cmd->add_option("--backend", a->backend, "auto | opencv | onednn")->capture_default_str();
  AddPrecisionFlag(cmd, a->precision);
  cmd->add_option("--threads", a->threads, "intra-op threads (default: global --threads)")
      ->transform(ThreadCount());
  cmd->add_option("--warmup", a->options.warmup, "untimed runs first")
      ->check(InRange(0, 100000))
      ->capture_default_str();
  cmd->add_option("--iters", a->options.iters, "timed runs (default: max(#images, 20))")
      ->check(InRange(1, 1000000));
  cmd->add_option("--conf", a->options.conf, "confidence threshold")
      ->check(InRange(0.0f, 1.0f))
      ->capture_default_str();
  cmd->add_option_function<std::string>(
         "--decode", [a](const std::string& v) { a->options.reduced_decode = v == "reduced"; },
         "JPEG decode: reduced (DCT scaling toward the model input) | full (full size)")
      ->check(CLI::IsMember({"reduced", "full"}))
      ->default_str("reduced");
  cmd->add_option("--batch", a->options.batch,
                  "images per model run (throughput mode; the model compiled for this batch, "
                  "onednn only); per-image times, model = the run / batch")
      ->check(InRange(1, 64))
      ->capture_default_str();
  cmd->add_flag("--pipeline", a->options.pipeline,
                "throughput mode: read, decode and pre of the next image on a second thread "
                "while the model runs");
  cmd->callback([a, &ctx] { Exit(RunBench(*a, ctx)); });
});

}  // namespace
}  // namespace vqi::cli
