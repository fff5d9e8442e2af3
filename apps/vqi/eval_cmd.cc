// `vqi model predict` and `vqi model eval`: flags and registration (the work is in
// eval_cmd_predict.cc and eval_cmd_eval.cc), plus the predictions-file model opener.
#include "eval_cmd.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>

#include "detectors.h"
#include "vqi/eval/predictions.h"

namespace vqi::cli {

Result<std::vector<std::string>> ListImages(const std::string& dir) {
  namespace fs = std::filesystem;
  static const char* kExts[] = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"};
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return InvalidArgument(dir + ": not a folder");
  auto scan = [&](const fs::path& d) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(d, ec)) {
      if (!e.is_regular_file(ec)) continue;
      std::string ext = e.path().extension().string();
      std::transform(ext.begin(), ext.end(), ext.begin(),
                     [](unsigned char c) { return std::tolower(c); });
      if (std::find(std::begin(kExts), std::end(kExts), ext) != std::end(kExts))
        out.push_back(e.path().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  std::vector<std::string> files = scan(dir);
  if (files.empty() && fs::is_directory(fs::path(dir) / "images", ec))
    files = scan(fs::path(dir) / "images");
  if (files.empty())
    return InvalidArgument(dir + ": no image files (jpg, jpeg, png, bmp, tif, tiff, webp)");
  return files;
}

namespace {

// `--model x.predictions.json` (or predictions.json) replays saved detections: evaluates the
// output of `vqi model predict` or of any other tool written in that format.
const bool kPredictionsOpener = RegisterDetectorOpener(
    "predictions", [](const std::string& path) { return path.ends_with("predictions.json"); },
    [](const std::string& path, const ModelRunOptions&) {
      return eval::OpenPredictionsFile(path);
    });

void AddDetectFlags(CLI::App* cmd, eval::DetectOptions& d) {
  cmd->add_option("--conf", d.conf_threshold, "confidence threshold")->capture_default_str();
  cmd->add_option("--iou", d.iou_threshold, "NMS IoU threshold")->capture_default_str();
  cmd->add_option("--max-det", d.max_detections, "detections kept per image")
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
      ->capture_default_str();
  ev->add_option("--backend", e->backend, "ONNX backend: auto | opencv | onednn")
      ->capture_default_str();
  AddDetectFlags(ev, e->detect);
  ev->callback([&ctx, e] { Exit(RunEval(ctx, *e)); });
});

}  // namespace
}  // namespace vqi::cli
