// oneDNN backend latency. Modes:
//   onednn_bench                                   self-contained: YOLOv8-like t@480x320 and
//                                                  n@640x640 (random weights), p50/p95
//   onednn_bench make-model SCALE WxH NC OUT.onnx  write a YOLOv8-like model (random weights)
//   onednn_bench make-seed OUT.onnx                 a small many-op graph (fuzzer seed)
//   onednn_bench make-conv C WxH OUT.onnx          one 3x3 C->C conv + SiLU (the GFLOP/s
//                                                  reference of a single convolution)
//   onednn_bench export-model SCALE WxH OUT.onnx   the same through our exporter (libs/onnx,
//                                                  random checkpoint), when it is built
//   onednn_bench quantize-model IN.onnx OUT.onnx   QDQ int8 version of an fp32 model (test
//                                                  helper testing::QuantizeToQdq, synthetic
//                                                  calibration on the reference kernels: slow)
//   onednn_bench time MODEL.onnx [THREADS] [ITERS] [PRECISION]  p50/p95 of one model
//   onednn_bench profile MODEL.onnx [THREADS] [ITERS] [BLOCK] [TUNE] [PRECISION]  the same with
//                                                  per-step timers: time per step kind, conv
//                                                  GFLOP/s, slowest steps, tuning candidates
//                                                  (BLOCK: OnednnOptions::block; TUNE 1:
//                                                  tune)
// Environment: VQI_BENCH_TUNE=1 (OnednnOptions::tune), VQI_BENCH_WINOGRAD=0 (winograd off),
// for A/B rotations in compare.js through a wrapper script as --bench-b.
//   onednn_bench serve MODEL.onnx [THREADS] [PRECISION]  for bench/peers/compare.js: prints a
//                                                  JSON header, then per stdin line "run N"
//                                                  prints N latencies in ms on one line
// PRECISION: auto (default), fp32, bf16, int8 (vqi/infer/backend.h).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "testing/onnx_builder.h"
#include "testing/qdq.h"
#include "testing/yolo_like.h"
#include "vqi/base/file.h"
#include "vqi/base/system.h"
#include "vqi/infer/onednn.h"
#ifdef VQI_BENCH_HAVE_ONNX
#include "vqi/onnx/export.h"
#include "vqi/onnx/weights.h"
#endif

namespace {

using vqi::infer::BackendOptions;
using vqi::infer::InferenceBackend;

int64_t Numel(const std::vector<int64_t>& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

double TimeOne(InferenceBackend& b, const std::vector<float>& in, std::vector<float>& out) {
  auto t0 = std::chrono::steady_clock::now();
  vqi::Status st = b.Run(in.data(), out.data());
  auto t1 = std::chrono::steady_clock::now();
  if (!st.ok()) {
    std::fprintf(stderr, "run failed: %s\n", st.ToString().c_str());
    std::exit(1);
  }
  return std::chrono::duration<double, std::milli>(t1 - t0).count();
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

size_t PeakRssKb() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<size_t>(ru.ru_maxrss);
}

int g_block = -1;  // the optional BLOCK argument of `profile`
bool g_tune = false;
bool g_winograd = true;  // VQI_BENCH_WINOGRAD=0: OnednnOptions::winograd off (A/B runs)

std::unique_ptr<InferenceBackend> Open(const std::string& path, int threads,
                                       const std::string& precision, bool profile = false) {
  vqi::infer::OnednnOptions o;
  o.block = g_block;
  o.tune = g_tune;
  o.winograd = g_winograd;
  o.threads = threads;
  auto p = vqi::infer::ParsePrecision(precision);
  if (!p.ok()) {
    std::fprintf(stderr, "%s\n", p.status().ToString().c_str());
    std::exit(2);
  }
  o.precision = *p;
  o.profile = profile;
  // Experiments with the serial thresholds (OnednnOptions::serial_conv_macs / serial_bytes).
  if (const char* v = std::getenv("VQI_BENCH_SERIAL_MACS")) o.serial_conv_macs = std::atoll(v);
  if (const char* v = std::getenv("VQI_BENCH_SERIAL_BYTES")) o.serial_bytes = std::atoll(v);
  // VQI_BENCH_BATCH=N: the model compiled for N images per run (times are per run).
  if (const char* batch = std::getenv("VQI_BENCH_BATCH")) o.batch = std::atoi(batch);
  auto b = vqi::infer::OpenOnednnBackend(path, o);
  if (!b.ok()) {
    std::fprintf(stderr, "%s\n", b.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(b).value();
}

int Time(const std::string& path, int threads, int iters, const std::string& precision = "auto",
         bool profile = false) {
  auto b = Open(path, threads, precision, profile);
  std::vector<float> in =
      vqi::infer::onednn::testing::RandomVector(Numel(b->Info().input_shape), 1);
  for (float& x : in) x = 0.5f + 0.5f * x;
  std::vector<float> out(Numel(b->Info().output_shape));
  for (int k = 0; k < 3; ++k) TimeOne(*b, in, out);
  std::vector<double> ms;
  for (int k = 0; k < iters; ++k) ms.push_back(TimeOne(*b, in, out));
  std::printf("%s threads=%d p50=%.2fms p95=%.2fms peak_rss=%zuKiB\n  %s\n", path.c_str(), threads,
              Percentile(ms, 0.5), Percentile(ms, 0.95), PeakRssKb(), b->Details().c_str());
  return 0;
}

int Serve(const std::string& path, int threads, const std::string& precision) {
  auto b = Open(path, threads, precision);
  std::vector<float> in =
      vqi::infer::onednn::testing::RandomVector(Numel(b->Info().input_shape), 1);
  for (float& x : in) x = 0.5f + 0.5f * x;
  std::vector<float> out(Numel(b->Info().output_shape));
  std::printf("{\"details\": \"%s\"}\n", b->Details().c_str());
  std::fflush(stdout);
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.rfind("run ", 0) != 0) break;
    int n = std::stoi(line.substr(4));
    std::string r;
    for (int k = 0; k < n; ++k) r += (k ? " " : "") + std::to_string(TimeOne(*b, in, out));
    std::printf("%s\n", r.c_str());
    std::fflush(stdout);
  }
  return 0;
}

int MakeModel(const std::string& scale, const std::string& size, int nc, const std::string& out) {
  vqi::model::ModelConfig cfg;
  cfg.scale = scale;
  if (std::sscanf(size.c_str(), "%dx%d", &cfg.input_w, &cfg.input_h) != 2) {
    std::fprintf(stderr, "size must be WxH\n");
    return 2;
  }
  cfg.class_names.clear();
  for (int k = 0; k < nc; ++k) cfg.class_names.push_back("class" + std::to_string(k));
  auto bytes = vqi::infer::onednn::testing::BuildYoloLikeOnnx(cfg);
  vqi::Status st = bytes.ok() ? vqi::WriteFileAtomic(out, *bytes) : bytes.status();
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}

// The hardware reference: one 3x3 stride-1 C->C convolution with SiLU at WxH (after a cheap
// 1x1 conv from the 3-channel image, as the backend's contract wants), output [1,C,H*W].
int MakeConv(int c, const std::string& size, const std::string& out) {
  int w = 0, h = 0;
  if (std::sscanf(size.c_str(), "%dx%d", &w, &h) != 2 || c < 1 || w < 1 || h < 1) {
    std::fprintf(stderr, "usage: make-conv C WxH OUT.onnx\n");
    return 2;
  }
  vqi::infer::onednn::testing::OnnxBuilder b(13, 1);
  std::string x = b.Input("images", {1, 3, h, w});
  std::string a = b.Op1("Conv", {x, b.Rand({c, 3, 1, 1}, 0.5f), b.Rand({c}, 0.1f)});
  std::string y = b.Op1("Conv", {a, b.Rand({c, c, 3, 3}, 0.05f), b.Rand({c}, 0.1f)});
  b.AttrInts({1, 1, 1, 1}, "pads");
  y = b.Op1("Mul", {y, b.Op1("Sigmoid", {y})});
  b.Output(b.Op1("Reshape", {y, b.Ints({1, c, int64_t{h} * w})}));
  vqi::Status st = b.Save(out);
  if (!st.ok()) std::fprintf(stderr, "%s\n", st.ToString().c_str());
  return st.ok() ? 0 : 1;
}

// A small graph with most supported ops: the seed of fuzz/onednn_load_fuzz.
int QuantizeModel(const std::string& in, const std::string& out) {
  auto bytes = vqi::ReadFile(in);
  auto q = bytes.ok() ? vqi::infer::onednn::testing::QuantizeToQdq(*bytes)
                      : vqi::Result<std::string>(bytes.status());
  vqi::Status st = q.ok() ? vqi::WriteFileAtomic(out, *q) : q.status();
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}

int MakeSeed(const std::string& out) {
  vqi::infer::onednn::testing::OnnxBuilder b(13, 1);
  std::string x = b.Input("images", {1, 3, 16, 12});
  std::string c = b.Op1("Conv", {x, b.Rand({16, 3, 3, 3}, 0.5f), b.Rand({16}, 0.1f)});
  b.AttrInts({1, 1, 1, 1}, "pads").AttrInts({2, 2}, "strides");
  c = b.Op1("Mul", {c, b.Op1("Sigmoid", {c})});
  auto p = b.Op("Split", {c, b.Ints({8, 8})}, 2);
  b.AttrInt("axis", 1);
  std::string m = b.Op1("MaxPool", {p[1]});
  b.AttrInts({3, 3}, "kernel_shape").AttrInts({1, 1, 1, 1}, "pads");
  std::string r = b.Op1("Resize", {m, b.Init({0}, {}), b.Init({4}, {1, 1, 2, 2})});
  b.AttrStr("mode", "nearest").AttrStr("coordinate_transformation_mode", "asymmetric");
  std::string d = b.Op1("Conv", {r, b.Rand({8, 8, 1, 1}, 0.5f)});
  b.AttrInts({2, 2}, "strides");
  std::string cat = b.Op1("Concat", {p[0], d});
  b.AttrInt("axis", 1);
  std::string f = b.Op1("Reshape", {cat, b.Ints({1, 16, -1})});
  std::string t = b.Op1("Transpose", {f});
  b.AttrInts({0, 2, 1}, "perm");
  std::string sm = b.Op1("Softmax", {t});
  std::string sl = b.Op1("Slice", {sm, b.Ints({0}), b.Ints({4}), b.Ints({2})});
  std::string y =
      b.Op1("Add", {b.Op1("Div", {sl, b.Init({}, {2.f})}), b.Init({1, 1, 4}, {1, 2, 3, 4})});
  b.Output(b.Op1("Transpose", {y}));
  vqi::Status st = b.Save(out);
  if (!st.ok()) std::fprintf(stderr, "%s\n", st.ToString().c_str());
  return st.ok() ? 0 : 1;
}

int ExportModel(const std::string& scale, const std::string& size, const std::string& out) {
#ifdef VQI_BENCH_HAVE_ONNX
  vqi::model::ModelConfig cfg;
  cfg.scale = scale;
  if (std::sscanf(size.c_str(), "%dx%d", &cfg.input_w, &cfg.input_h) != 2) return 2;
  auto ckpt = vqi::onnx::RandomCheckpoint(cfg, 1);
  auto bytes = ckpt.ok() ? vqi::onnx::ExportOnnx(*ckpt, {}) : ckpt.status();
  vqi::Status st = bytes.ok() ? vqi::WriteFileAtomic(out, *bytes) : bytes.status();
  if (st.ok()) return 0;
  std::fprintf(stderr, "%s\n", st.ToString().c_str());
  return 1;
#else
  std::fprintf(stderr, "built without libs/onnx\n");
  return 2;
#endif
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  // For A/B runs of the tuning (compare.js --bench-b with a wrapper setting it): 1 = on.
  if (const char* t = std::getenv("VQI_BENCH_TUNE")) g_tune = std::string(t) == "1";
  // The same for Winograd (docs/design/onednn.md "Winograd"): 0 = off.
  if (const char* t = std::getenv("VQI_BENCH_WINOGRAD")) g_winograd = std::string(t) != "0";
  int threads = std::min(2, vqi::HardwareThreads());
  if (!a.empty() && a[0] == "make-model" && a.size() == 5)
    return MakeModel(a[1], a[2], std::stoi(a[3]), a[4]);
  if (!a.empty() && a[0] == "make-seed" && a.size() == 2) return MakeSeed(a[1]);
  if (!a.empty() && a[0] == "make-conv" && a.size() == 4)
    return MakeConv(std::stoi(a[1]), a[2], a[3]);
  if (!a.empty() && a[0] == "quantize-model" && a.size() == 3) return QuantizeModel(a[1], a[2]);
  if (!a.empty() && a[0] == "export-model" && a.size() == 4) return ExportModel(a[1], a[2], a[3]);
  if (!a.empty() && a[0] == "time" && a.size() >= 2)
    return Time(a[1], a.size() > 2 ? std::stoi(a[2]) : threads, a.size() > 3 ? std::stoi(a[3]) : 30,
                a.size() > 4 ? a[4] : "auto");
  if (!a.empty() && a[0] == "profile" && a.size() >= 2) {
    if (a.size() > 4) g_block = std::stoi(a[4]);
    if (a.size() > 5) g_tune = a[5] == "1";
    return Time(a[1], a.size() > 2 ? std::stoi(a[2]) : threads, a.size() > 3 ? std::stoi(a[3]) : 30,
                a.size() > 6 ? a[6] : "auto", true);
  }
  if (!a.empty() && a[0] == "serve" && a.size() >= 2)
    return Serve(a[1], a.size() > 2 ? std::stoi(a[2]) : threads, a.size() > 3 ? a[3] : "auto");
  if (!a.empty()) {
    std::fprintf(stderr, "usage: see the header of bench/onednn_bench.cc\n");
    return 2;
  }
  auto dir = std::filesystem::temp_directory_path() / "vqi_onednn_bench";
  std::filesystem::create_directories(dir);
  std::string t = (dir / "yolo_t_480x320.onnx").string(), n = (dir / "yolo_n_640.onnx").string();
  if (MakeModel("t", "480x320", 1, t) || MakeModel("n", "640x640", 1, n)) return 1;
  Time(t, threads, 30);
  return Time(n, threads, 20);
}
