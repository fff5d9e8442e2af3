// `vqi model optimize`: the float16-weight variant of an ONNX model (libs/onnx) and the
// accuracy change it causes: output drift on a folder of images (libs/infer) and, with
// --dataset/--split or --eval-images, mAP50 of both models (vqi model eval).
#include <cmath>
#include <cstdio>

#include "cli.h"
#include "eval_cmd.h"
#include "vqi/base/file.h"
#include "vqi/base/json.h"
#include "vqi/eval/nms.h"
#include "vqi/infer/detector.h"
#include "vqi/onnx/float16.h"

namespace vqi::cli {
namespace {

struct OptimizeArgs {
  std::string model, out, images, backend = "opencv", dataset, split = "default", part = "test",
                                  eval_images;
};

// Runs both models on every image: max |difference| of output0 and detection agreement.
Status CompareOnImages(const OptimizeArgs& a, const Context& ctx, Json* j) {
  VQI_ASSIGN_OR_RETURN(std::vector<std::string> files, ListImages(a.images));
  VQI_ASSIGN_OR_RETURN(auto d32, infer::OnnxDetector::Open(a.model, a.backend, {ctx.threads}));
  VQI_ASSIGN_OR_RETURN(auto d16, infer::OnnxDetector::Open(a.out, a.backend, {ctx.threads}));
  eval::DetectOptions opt;  // predict defaults: conf 0.25
  double max_box = 0, max_score = 0;
  int64_t n32 = 0, matched = 0;
  for (const std::string& f : files) {
    VQI_ASSIGN_OR_RETURN(auto r32, d32->Detect(f, opt));
    VQI_ASSIGN_OR_RETURN(auto r16, d16->Detect(f, opt));
    const auto& o32 = d32->LastOutput();
    const auto& o16 = d16->LastOutput();
    const size_t box_end = o32.size() / (d32->ClassNames().size() + 4) * 4;
    for (size_t i = 0; i < o32.size(); ++i) {
      const double d = std::fabs(static_cast<double>(o32[i]) - o16[i]);
      if (i < box_end) {
        max_box = std::max(max_box, d);
      } else {
        max_score = std::max(max_score, d);
      }
    }
    n32 += static_cast<int64_t>(r32.size());
    for (const auto& x : r32)
      for (const auto& y : r16)
        if (x.class_id == y.class_id && eval::IoU(x, y) > 0.9f) {
          ++matched;
          break;
        }
  }
  (*j)["images"] = files.size();
  (*j)["max_abs_box_diff_px"] = max_box;
  (*j)["max_abs_score_diff"] = max_score;
  (*j)["detections_fp32"] = n32;
  (*j)["detections_matched_iou0.9"] = matched;
  std::printf("output drift on %zu images: max |box| %.4f px, max |score| %.6f; %lld of %lld "
              "detections matched (IoU > 0.9, same class)\n",
              files.size(), max_box, max_score, static_cast<long long>(matched),
              static_cast<long long>(n32));
  return Status::Ok();
}

Result<double> Map50(const Context& ctx, const OptimizeArgs& a, const std::string& model) {
  EvalFlags f;
  f.model = model;
  f.backend = a.backend;
  f.dataset = a.dataset.empty() ? f.dataset : a.dataset;
  f.split = a.split;
  f.part = a.part;
  f.images = a.eval_images;
  return EvalMap50(ctx, f, a.out);
}

Status RunOptimize(const OptimizeArgs& a, const Context& ctx) {
  VQI_ASSIGN_OR_RETURN(std::string in, ReadFile(a.model));
  VQI_ASSIGN_OR_RETURN(std::string out, onnx::ConvertWeightsToFloat16(in, a.model));
  VQI_RETURN_IF_ERROR(WriteFileAtomic(a.out, out));
  Json j = {{"model", a.model},
            {"out", a.out},
            {"bytes_fp32", in.size()},
            {"bytes_fp16", out.size()},
            {"size_ratio", static_cast<double>(out.size()) / static_cast<double>(in.size())}};
  std::printf("wrote %s: %zu -> %zu bytes (%.1f%%), float16 weights, float32 I/O\n",
              a.out.c_str(), in.size(), out.size(),
              100.0 * static_cast<double>(out.size()) / static_cast<double>(in.size()));
  if (!a.images.empty()) VQI_RETURN_IF_ERROR(CompareOnImages(a, ctx, &j));
  if (!a.dataset.empty() || !a.eval_images.empty()) {
    VQI_ASSIGN_OR_RETURN(double m32, Map50(ctx, a, a.model));
    VQI_ASSIGN_OR_RETURN(double m16, Map50(ctx, a, a.out));
    j["map50_fp32"] = m32;
    j["map50_fp16"] = m16;
    j["map50_change"] = m16 - m32;
    std::printf("mAP50: float32 %.4f, float16 %.4f, change %+.4f\n", m32, m16, m16 - m32);
  }
  if (ctx.json) std::printf("%s\n", j.dump(2).c_str());
  return Status::Ok();
}

const bool kRegistered = Register([](CLI::App& app, Context& ctx) {
  CLI::App& model = Noun(app, "model", "Train, evaluate and run detectors");
  auto* a = new OptimizeArgs();  // lives for the process
  auto* cmd = model.add_subcommand(
      "optimize", "Write the float16-weight variant of an ONNX model and report the accuracy "
                  "change");
  cmd->add_option("--model", a->model, "ONNX model (float32 weights)")->required();
  cmd->add_option("--out", a->out, "ONNX file to write")->required();
  cmd->add_option("--images", a->images, "folder: compare both models' outputs on it");
  cmd->add_option("--dataset", a->dataset, "dataset store: compare mAP50 on --split/--part");
  cmd->add_option("--split", a->split, "split snapshot")->capture_default_str();
  cmd->add_option("--part", a->part, "train | val | test")->capture_default_str();
  cmd->add_option("--eval-images", a->eval_images,
                  "folder with YOLO labels: compare mAP50 on it");
  cmd->add_option("--backend", a->backend, "inference backend")->capture_default_str();
  cmd->callback([a, &ctx] { Exit(RunOptimize(*a, ctx)); });
});

}  // namespace
}  // namespace vqi::cli
