// `vqi model optimize`: the float16-weight variant of an ONNX model (libs/onnx) and the
// accuracy change it causes: output drift on a folder of images (libs/infer) and, with
// --dataset/--split or --eval-images, mAP50 of both models (vqi model eval).
#include <cstdio>

#include "cli.h"
#include "eval_cmd.h"
#include "vqi/base/file.h"
#include "vqi/base/json.h"
#include "vqi/detect/compare.h"
#include "vqi/detect/evaluate.h"
#include "vqi/detect/open.h"
#include "vqi/onnx/float16.h"

namespace vqi::cli {
namespace {

struct OptimizeArgs {
  std::string model, out, images, backend = "opencv", dataset, split = "default", part = "test",
                                  eval_images;
};

// Both models on every image: output drift and detection agreement.
Status CompareOnImages(const OptimizeArgs& a, const Context& ctx, Json* j) {
  VQI_ASSIGN_OR_RETURN(detect::OutputDrift d,
                       detect::CompareOutputs(a.model, a.out, a.images, {ctx.threads, a.backend}));
  (*j)["images"] = d.images;
  (*j)["max_abs_box_diff_px"] = d.max_abs_box_diff_px;
  (*j)["max_abs_score_diff"] = d.max_abs_score_diff;
  (*j)["detections_fp32"] = d.detections_before;
  (*j)["detections_matched_iou0.9"] = d.detections_matched;
  std::printf(
      "output drift on %zu images: max |box| %.4f px, max |score| %.6f; %lld of %lld "
      "detections matched (IoU > 0.9, same class)\n",
      d.images, d.max_abs_box_diff_px, d.max_abs_score_diff,
      static_cast<long long>(d.detections_matched), static_cast<long long>(d.detections_before));
  return Status::Ok();
}

Status RunOptimize(const OptimizeArgs& a, const Context& ctx) {
  detect::RegisterAvailableBackends();
  VQI_ASSIGN_OR_RETURN(std::string in, ReadFile(a.model));
  VQI_ASSIGN_OR_RETURN(std::string out, onnx::ConvertWeightsToFloat16(in, a.model));
  VQI_RETURN_IF_ERROR(WriteFileAtomic(a.out, out));
  Json j = {{"model", a.model},
            {"out", a.out},
            {"bytes_fp32", in.size()},
            {"bytes_fp16", out.size()},
            {"size_ratio", static_cast<double>(out.size()) / static_cast<double>(in.size())}};
  std::printf("wrote %s: %zu -> %zu bytes (%.1f%%), float16 weights, float32 I/O\n", a.out.c_str(),
              in.size(), out.size(),
              100.0 * static_cast<double>(out.size()) / static_cast<double>(in.size()));
  if (!a.images.empty()) VQI_RETURN_IF_ERROR(CompareOnImages(a, ctx, &j));
  if (!a.dataset.empty() || !a.eval_images.empty()) {
    VQI_ASSIGN_OR_RETURN(
        detect::Map50Change c,
        detect::CompareMap50(a.model, a.out, {ctx.threads, a.backend},
                             EvalSourceOf(ctx, a.eval_images, a.dataset, a.split, a.part)));
    ReportMap50Change(c, "fp16", a.eval_images.empty() ? a.split + "/" + a.part : a.eval_images,
                      &j);
  }
  if (ctx.json) std::printf("%s\n", j.dump(2).c_str());
  return Status::Ok();
}

const bool kRegistered = Register([](CLI::App& app, Context& ctx) {
  CLI::App& model = Noun(app, "model", "Train, evaluate and run detectors");
  auto* a = new OptimizeArgs();  // lives for the process
  auto* cmd = model.add_subcommand(
      "optimize",
      "Write the float16-weight variant of an ONNX model and report the accuracy "
      "change");
  cmd->add_option("--model", a->model, "ONNX model (float32 weights)")->required();
  cmd->add_option("--out", a->out, "ONNX file to write")->required();
  cmd->add_option("--images", a->images, "folder: compare both models' outputs on it");
  cmd->add_option("--dataset", a->dataset, "dataset store: compare mAP50 on --split/--part");
  cmd->add_option("--split", a->split, "split snapshot")->capture_default_str();
  cmd->add_option("--part", a->part, "train | val | test")->capture_default_str();
  cmd->add_option("--eval-images", a->eval_images, "folder with YOLO labels: compare mAP50 on it");
  cmd->add_option("--backend", a->backend, "inference backend")->capture_default_str();
  cmd->callback([a, &ctx] { Exit(RunOptimize(*a, ctx)); });
});

}  // namespace
}  // namespace vqi::cli
