#include "vqi/detect/bench.h"

#include <algorithm>
#include <chrono>
#include <future>

#include "vqi/base/file.h"
#include "vqi/base/system.h"
#include "vqi/infer/detector.h"
#include "vqi/yolo/image.h"
#include "vqi/yolo/labels.h"

namespace vqi::detect {

namespace {

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

}  // namespace

Result<BenchResult> BenchInfer(const std::string& onnx_model, const std::string& images,
                               const ModelOptions& model, const BenchOptions& o) {
  if (o.warmup < 0 || o.iters < 0) return InvalidArgument("--warmup and --iters must be >= 0");
  VQI_RETURN_IF_ERROR(CheckThreadCount(model.threads, "threads"));
  VQI_ASSIGN_OR_RETURN(std::vector<std::string> files, yolo::ListImages(images));
  if (o.batch < 1 || o.batch > infer::kMaxBatch)
    return InvalidArgument("--batch " + std::to_string(o.batch) + " out of range (accepted: 1.." +
                           std::to_string(infer::kMaxBatch) + ")");
  if (o.batch > 1 && o.pipeline)
    return InvalidArgument("--batch and --pipeline exclude each other");
  VQI_ASSIGN_OR_RETURN(infer::BackendOptions backend, BackendOptionsOf(model));
  backend.batch = o.batch;
  VQI_ASSIGN_OR_RETURN(std::unique_ptr<infer::OnnxDetector> det,
                       infer::OnnxDetector::Open(onnx_model, model.backend, backend));
  det->SetReducedDecode(o.reduced_decode);
  eval::DetectOptions opt;
  opt.conf_threshold = o.conf;
  VQI_RETURN_IF_ERROR(ValidateDetectOptions(opt));
  const int iters = o.iters > 0 ? o.iters : static_cast<int>(std::max<size_t>(files.size(), 20));
  std::vector<double> read, decode, pre, run, post, total, beyond, share, share_dpp;
  size_t dets = 0, dets_batch = 0;
  BenchResult r;
  using Clock = std::chrono::steady_clock;
  Clock::time_point start;
  const int runs = o.warmup + iters;
  infer::OnnxDetector::Prepared slots[2];
  // Per image of the last run: its stage times (batch mode: read and decode measured here).
  std::vector<infer::StageTimes> times;
  std::vector<yolo::Image> decoded(static_cast<size_t>(o.batch));
  std::vector<const yolo::Image*> ptrs;
  std::vector<std::string> names;
  auto run_batch = [&](int i) -> Status {
    ptrs.clear();
    names.clear();
    times.assign(static_cast<size_t>(o.batch), {});
    for (int b = 0; b < o.batch; ++b) {
      const std::string& f = files[(static_cast<size_t>(i) * o.batch + b) % files.size()];
      const auto t0 = Clock::now();
      VQI_ASSIGN_OR_RETURN(std::string bytes, ReadFile(f));
      const auto t1 = Clock::now();
      VQI_ASSIGN_OR_RETURN(decoded[b], yolo::DecodeImageBytes(bytes, f, det->DecodeHint()));
      times[b].read_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
      times[b].decode_ms = std::chrono::duration<double, std::milli>(Clock::now() - t1).count();
      ptrs.push_back(&decoded[b]);
      names.push_back(f);
    }
    auto results = det->DetectBatch(ptrs, names, opt);
    for (size_t b = 0; b < results.size(); ++b) {
      if (!results[b].ok()) return results[b].status();
      const infer::StageTimes& t = det->LastBatchTimes()[b];
      times[b].pre_ms = t.pre_ms;
      times[b].model_ms = t.model_ms;
      times[b].post_ms = t.post_ms;
      dets_batch += results[b]->size();
    }
    return Status::Ok();
  };
  auto prepare = [&](int i) {
    return det->Prepare(files[static_cast<size_t>(i) % files.size()], &slots[i % 2]);
  };
  Status prepared = o.pipeline && runs > 0 ? prepare(0) : Status::Ok();
  for (int i = 0; i < runs; ++i) {
    if (i == o.warmup) start = Clock::now();
    const std::string& f = files[static_cast<size_t>(i) % files.size()];
    Result<std::vector<eval::Detection>> d = std::vector<eval::Detection>{};
    dets_batch = 0;
    if (o.batch > 1) {
      Status st = run_batch(i);
      if (!st.ok()) d = st;
    } else if (o.pipeline) {
      std::future<Status> next;
      if (i + 1 < runs) next = std::async(std::launch::async, prepare, i + 1);
      d = prepared.ok() ? det->RunPrepared(slots[i % 2], opt)
                        : Result<std::vector<eval::Detection>>(prepared);
      if (next.valid()) prepared = next.get();
    } else {
      d = det->Detect(f, opt);
    }
    if (!d.ok()) {
      if (i >= o.warmup) ++r.failures;
      if (r.errors.size() < 4) r.errors.push_back(d.status());
      continue;
    }
    if (i < o.warmup) continue;
    if (o.batch == 1) times.assign(1, det->LastTimes());
    for (const infer::StageTimes& t : times) {
      read.push_back(t.read_ms);
      decode.push_back(t.decode_ms);
      pre.push_back(t.pre_ms);
      run.push_back(t.model_ms);
      post.push_back(t.post_ms);
      const double all = t.read_ms + t.decode_ms + t.pre_ms + t.model_ms + t.post_ms;
      total.push_back(all);
      beyond.push_back(all - t.model_ms);
      share.push_back(all > 0 ? (all - t.model_ms) / all : 0);
      share_dpp.push_back(all > 0 ? (t.decode_ms + t.pre_ms + t.post_ms) / all : 0);
    }
    dets += o.batch > 1 ? dets_batch : d->size();
  }
  const double secs = std::chrono::duration<double>(Clock::now() - start).count();
  if (total.empty()) return InvalidArgument(images + ": no image could be run");
  r.backend = det->Backend().Name();
  r.details = (det->BatchBackend() ? *det->BatchBackend() : det->Backend()).Details();
  r.detector = det->Describe();
  r.threads = model.threads;
  r.images = files.size();
  r.iters = total.size();
  r.warmup = o.warmup;
  r.batch = o.batch;
  r.images_per_s = static_cast<double>(total.size()) / secs;
  r.mean_detections = static_cast<double>(dets) / static_cast<double>(total.size());
  for (const auto& [name, v] : {std::pair<const char*, std::vector<double>*>{"read", &read},
                                {"decode", &decode},
                                {"pre", &pre},
                                {"model", &run},
                                {"post", &post},
                                {"total", &total},
                                {"beyond", &beyond}})
    r.stages[name] = {Percentile(*v, 0.5), Percentile(*v, 0.95)};
  r.share_beyond_model = {Percentile(share, 0.5), Percentile(share, 0.95)};
  r.share_decode_pre_post = {Percentile(share_dpp, 0.5), Percentile(share_dpp, 0.95)};
  return r;
}

}  // namespace vqi::detect
