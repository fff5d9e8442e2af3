// `vqi model predict` and `vqi model eval`: flags and registration (the printing is in
// eval_cmd_predict.cc and eval_cmd_eval.cc, the work in libs/detect).
#include "eval_cmd.h"

#include <cstdio>
#include <memory>

#include "vqi/detect/open.h"

namespace vqi::cli {

detect::EvalSource EvalSourceOf(const Context& ctx, const std::string& images,
                                const std::string& dataset, const std::string& split,
                                const std::string& part) {
  detect::EvalSource s;
  s.images = images;
  s.home = ctx.home;
  s.dataset = dataset.empty() ? s.dataset : dataset;
  s.split = split;
  s.part = part;
  return s;
}

void ReportMap50Change(const detect::Map50Change& c, const std::string& variant,
                       const std::string& on, Json* j) {
  (*j)["map50_fp32"] = c.before;
  (*j)["map50_" + variant] = c.after;
  (*j)["map50_change"] = c.after - c.before;
  std::printf("mAP50 on %s: float32 %.4f, %s %.4f, change %+.4f\n", on.c_str(), c.before,
              variant.c_str(), c.after, c.after - c.before);
}

namespace {

void AddDetectFlags(CLI::App* cmd, eval::DetectOptions& d) {
  cmd->add_option("--conf", d.conf_threshold, "confidence threshold")
      ->check(InRange(0.0f, 1.0f))
      ->capture_default_str();
  cmd->add_option("--iou", d.iou_threshold, "NMS IoU threshold")
      ->check(InRange(0.0f, 1.0f))
      ->capture_default_str();
  cmd->add_option("--max-det", d.max_detections, "detections kept per image")
      ->check(InRange(1, detect::kMaxDetections))
      ->capture_default_str();
  cmd->add_flag("--agnostic", d.class_agnostic, "class-agnostic NMS");
}

const bool kRegistered = Register([](CLI::App& app, Context& ctx) {
  CLI::App& model = Noun(app, "model", "Train, evaluate and run detectors");

  auto p = std::make_shared<PredictFlags>();
  auto* predict = model.add_subcommand(
      "predict", "Run a model on an image or a folder: JSON lines on stdout, annotated images");
  predict->add_option("--model", p->model, "checkpoint (.safetensors), .onnx or predictions.json")
      ->required();
  auto* image = predict->add_option("--image", p->image, "one image file");
  auto* images = predict->add_option("--images", p->images, "a folder of images");
  image->excludes(images);
  predict->add_option("--out", p->out, "folder for predictions.json and annotated images");
  predict->add_option("--backend", p->backend, "ONNX backend: auto | opencv | onednn")
      ->capture_default_str();
  AddPrecisionFlag(predict, p->precision);
  AddDetectFlags(predict, p->detect);
  predict->callback([&ctx, p] { Exit(RunPredict(ctx, *p)); });

  auto e = std::make_shared<EvalFlags>();
  e->detect.conf_threshold = 0.001f;
  auto* ev = model.add_subcommand(
      "eval", "Score a model (COCO mAP50, mAP50-95, P/R/F1) on a dataset split or a folder");
  ev->add_option("--model", e->model, "checkpoint (.safetensors), .onnx or predictions.json")
      ->required();
  ev->add_option("--dataset", e->dataset, "dataset store name")->capture_default_str();
  ev->add_option("--split", e->split, "split snapshot")->capture_default_str();
  ev->add_option("--part", e->part, "train | val | test")->capture_default_str();
  ev->add_option("--images", e->images,
                 "instead of the store: a folder of images with YOLO labels (labels/ or beside)");
  ev->add_option("--report", e->report, "write the JSON report here");
  ev->add_option("--pr-conf", e->pr_conf, "confidence for precision/recall/F1")
      ->check(InRange(0.0f, 1.0f))
      ->capture_default_str();
  ev->add_option("--backend", e->backend, "ONNX backend: auto | opencv | onednn")
      ->capture_default_str();
  AddPrecisionFlag(ev, e->precision);
  AddDetectFlags(ev, e->detect);
  ev->callback([&ctx, e] { Exit(RunEval(ctx, *e)); });
});

}  // namespace
}  // namespace vqi::cli
