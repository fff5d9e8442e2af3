// libs/infer on the command line: the `.onnx` detector opener for `vqi model predict|eval`, and
// `vqi bench infer` (per-stage latency of the ONNX pipeline).
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "cli.h"
#include "detectors.h"
#include "eval_cmd.h"
#include "vqi/base/json.h"
#include "vqi/infer/detector.h"
#include "vqi/infer/onednn.h"

namespace vqi::cli {
namespace {

const bool kOpener = RegisterDetectorOpener(
    "onnx", [](const std::string& path) { return path.ends_with(".onnx"); },
    [](const std::string& path,
       const ModelRunOptions& o) -> Result<std::unique_ptr<eval::Detector>> {
      VQI_ASSIGN_OR_RETURN(std::unique_ptr<infer::OnnxDetector> d,
                           infer::OnnxDetector::Open(path, o.backend, {o.threads}));
      return std::unique_ptr<eval::Detector>(std::move(d));
    });

struct BenchArgs {
  std::string model, images, backend = "auto";
  int threads = 0, warmup = 5, iters = 0;
  float conf = 0.25f;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

Status RunBench(const BenchArgs& a, const Context& ctx) {
  if (a.warmup < 0 || a.iters < 0) return InvalidArgument("--warmup and --iters must be >= 0");
  VQI_ASSIGN_OR_RETURN(std::vector<std::string> files, ListImages(a.images));
  const int threads = a.threads > 0 ? a.threads : ctx.threads;
  VQI_ASSIGN_OR_RETURN(std::unique_ptr<infer::OnnxDetector> det,
                       infer::OnnxDetector::Open(a.model, a.backend, {threads}));
  eval::DetectOptions opt;
  opt.conf_threshold = a.conf;
  const int iters = a.iters > 0 ? a.iters : static_cast<int>(std::max<size_t>(files.size(), 20));
  std::vector<double> decode, pre, model, post, total;
  size_t dets = 0;
  int failures = 0;
  using Clock = std::chrono::steady_clock;
  Clock::time_point start;
  for (int i = 0; i < a.warmup + iters; ++i) {
    if (i == a.warmup) start = Clock::now();
    const std::string& f = files[static_cast<size_t>(i) % files.size()];
    auto r = det->Detect(f, opt);
    if (!r.ok()) {
      if (i < a.warmup || failures++ < 3)
        std::fprintf(stderr, "error: %s\n", r.status().ToString().c_str());
      continue;
    }
    if (i < a.warmup) continue;
    const infer::StageTimes& t = det->LastTimes();
    decode.push_back(t.decode_ms);
    pre.push_back(t.pre_ms);
    model.push_back(t.model_ms);
    post.push_back(t.post_ms);
    total.push_back(t.decode_ms + t.pre_ms + t.model_ms + t.post_ms);
    dets += r->size();
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  if (total.empty()) return InvalidArgument(a.images + ": no image could be run");
  const double ips = static_cast<double>(total.size()) / secs;
  const std::string backend = det->Backend().Name();
  if (ctx.json) {
    Json j = {{"model", a.model},
              {"backend", backend},
              {"details", det->Backend().Details()},
              {"threads", threads},
              {"images", files.size()},
              {"iters", total.size()},
              {"warmup", a.warmup},
              {"failures", failures},
              {"images_per_s", ips},
              {"mean_detections", static_cast<double>(dets) / static_cast<double>(total.size())}};
    auto stage = [&](const char* name, const std::vector<double>& v) {
      j["stages_ms"][name] = {{"p50", Percentile(v, 0.5)}, {"p95", Percentile(v, 0.95)}};
    };
    stage("decode", decode);
    stage("pre", pre);
    stage("model", model);
    stage("post", post);
    stage("total", total);
    std::printf("%s\n", j.dump(2).c_str());
    return Status::Ok();
  }
  std::printf("model %s (%s)\nbackend %s: %s\n%zu images, %d warm-up, %zu timed runs, %d failed\n",
              a.model.c_str(), det->Describe().c_str(), backend.c_str(),
              det->Backend().Details().c_str(), files.size(), a.warmup, total.size(), failures);
  std::printf("%-8s %10s %10s\n", "stage", "p50 ms", "p95 ms");
  auto row = [](const char* name, const std::vector<double>& v) {
    std::printf("%-8s %10.3f %10.3f\n", name, Percentile(v, 0.5), Percentile(v, 0.95));
  };
  row("decode", decode);
  row("pre", pre);
  row("model", model);
  row("post", post);
  row("total", total);
  std::printf("throughput %.2f images/s (single stream, %d thread(s))\n", ips, threads);
  return Status::Ok();
}

const bool kRegistered = Register([](CLI::App& app, Context& ctx) {
  infer::RegisterOnednnBackend();  // "onednn" (and "auto") for every verb that opens a model
  CLI::App& bench = Noun(app, "bench", "Measure performance");
  auto* a = new BenchArgs();  // lives for the process
  auto* cmd = bench.add_subcommand(
      "infer", "Per-stage latency (decode, pre, model, post) of an ONNX model on a folder");
  cmd->add_option("--model", a->model, "ONNX model")->required();
  cmd->add_option("--images", a->images, "folder of images (cycled)")->required();
  cmd->add_option("--backend", a->backend, "auto | opencv | onednn")->capture_default_str();
  cmd->add_option("--threads", a->threads, "intra-op threads (default: global --threads)");
  cmd->add_option("--warmup", a->warmup, "untimed runs first")->capture_default_str();
  cmd->add_option("--iters", a->iters, "timed runs (default: max(#images, 20))");
  cmd->add_option("--conf", a->conf, "confidence threshold")->capture_default_str();
  cmd->callback([a, &ctx] { Exit(RunBench(*a, ctx)); });
});

}  // namespace
}  // namespace vqi::cli
