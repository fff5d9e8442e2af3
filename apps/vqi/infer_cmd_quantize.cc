// `vqi model quantize`: post-training static int8 quantization of an ONNX model to standard QDQ
// (libs/onnx), calibrated by running the float model on real images (libs/infer's
// TensorObserver), and the mAP change it causes on the validation split.
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "cli.h"
#include "eval_cmd.h"
#include "vqi/base/file.h"
#include "vqi/base/json.h"
#include "vqi/infer/image.h"
#include "vqi/infer/observe.h"
#include "vqi/onnx/quantize.h"
#ifdef VQI_HAVE_DATASET
#include "vqi/dataset/store.h"
#endif

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

// The calibration images: a folder's images, or a dataset split part.
Result<std::vector<std::string>> CalibrationImages(const Context& ctx, const QuantizeArgs& a,
                                                   bool* from_store) {
  *from_store = false;
  std::vector<std::string> files;
  if (std::filesystem::is_directory(a.calib)) {
    VQI_ASSIGN_OR_RETURN(files, ListImages(a.calib));
  } else {
#ifdef VQI_HAVE_DATASET
    VQI_ASSIGN_OR_RETURN(auto store, dataset::Store::Open(ctx.home, a.calib, /*create=*/false));
    VQI_ASSIGN_OR_RETURN(auto samples, store->SplitSamples(a.split, a.calib_part));
    if (samples.empty())
      return InvalidArgument("--calib '" + a.calib + "': not a folder, and part '" +
                             a.calib_part + "' of split '" + a.split +
                             "' in that dataset has no images");
    for (const auto& s : samples) files.push_back(s.path);
    *from_store = true;
#else
    (void)ctx;
    return InvalidArgument("--calib '" + a.calib + "' is not a folder of images");
#endif
  }
  if (a.max_images > 0 && static_cast<int>(files.size()) > a.max_images) {
    std::vector<std::string> picked;  // evenly spaced, deterministic
    for (int i = 0; i < a.max_images; ++i)
      picked.push_back(files[files.size() * static_cast<size_t>(i) / static_cast<size_t>(a.max_images)]);
    files = std::move(picked);
  }
  return files;
}

Result<double> Map50Of(const Context& ctx, const QuantizeArgs& a, const std::string& model,
                       bool from_store) {
  EvalFlags f;
  f.model = model;
  f.backend = a.backend;
  if (!a.eval_images.empty()) {
    f.images = a.eval_images;
  } else {
    f.dataset = a.calib;
    f.split = a.split;
    f.part = a.eval_part;
    if (!from_store) return FailedPrecondition("no evaluation set");
  }
  return EvalMap50(ctx, f, a.out);
}

Status RunQuantize(QuantizeArgs a, const Context& ctx) {
  const auto t0 = std::chrono::steady_clock::now();
  VQI_ASSIGN_OR_RETURN(std::string bytes, ReadFile(a.model));
  VQI_ASSIGN_OR_RETURN(onnx::QuantizationPlan plan, onnx::PlanQuantization(bytes, a.model, a.keep_float));
  bool from_store = false;
  VQI_ASSIGN_OR_RETURN(std::vector<std::string> files, CalibrationImages(ctx, a, &from_store));
  const std::vector<std::string> names = plan.Activations();
  VQI_ASSIGN_OR_RETURN(auto observer, infer::OpenTensorObserver(a.model, names, ctx.threads));
  const auto& shape = observer->InputShape();
  if (shape.size() != 4 || shape[1] != 3)
    return InvalidArgument(a.model + ": input is not [1, 3, H, W]");
  const int h = static_cast<int>(shape[2]), w = static_cast<int>(shape[3]);
  std::vector<float> input(static_cast<size_t>(3 * h * w));
  cv::Mat scratch;
  onnx::ActivationRanges ranges;
  int used = 0;
  for (const std::string& f : files) {
    auto img = infer::DecodeImageFile(f);
    if (!img.ok()) {  // a bad calibration image is skipped, and said
      std::fprintf(stderr, "warning: %s (skipped)\n", img.status().ToString().c_str());
      continue;
    }
    infer::LetterboxToTensor(*img, w, h, input.data(), &scratch);
    VQI_RETURN_IF_ERROR(observer->Run(
        input.data(), [&](const std::string& name, const float* data, int64_t count) {
          ranges.Observe(name, data, count);
        }));
    ++used;
    std::fprintf(stderr, "\rcalibrating: %d/%zu images", used, files.size());
  }
  std::fprintf(stderr, "\n");
  if (used == 0) return InvalidArgument("--calib '" + a.calib + "': no image decoded");
  for (const auto& n : names)
    if (ranges.NonFinite(n) > 0)
      std::fprintf(stderr, "warning: tensor '%s' had %lld non-finite values (ignored)\n",
                   n.c_str(), static_cast<long long>(ranges.NonFinite(n)));
  a.options.provenance = {{"source", a.calib},
                          {"images", used},
                          {"split", from_store ? a.split + "/" + a.calib_part : ""}};
  VQI_ASSIGN_OR_RETURN(auto scales, onnx::GroupScales(plan, ranges, a.options));
  VQI_ASSIGN_OR_RETURN(std::string q, onnx::WriteQdqModel(bytes, a.model, plan, scales, a.options));
  VQI_RETURN_IF_ERROR(WriteFileAtomic(a.out, q));
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  Json j = {{"model", a.model},         {"out", a.out},
            {"bytes_fp32", bytes.size()}, {"bytes_int8", q.size()},
            {"convs", plan.convs},        {"activation_groups", plan.groups.size()},
            {"calibration_images", used}, {"method", a.options.method},
            {"seconds", secs}};
  std::printf("wrote %s: %zu -> %zu bytes (%.1f%%), %d convs int8 (per-channel), %zu activation "
              "groups, %s calibration on %d images, %.1f s\n",
              a.out.c_str(), bytes.size(), q.size(), 100.0 * q.size() / bytes.size(), plan.convs,
              plan.groups.size(), a.options.method.c_str(), used, secs);
  if (!a.no_eval && (from_store || !a.eval_images.empty())) {
    VQI_ASSIGN_OR_RETURN(double m32, Map50Of(ctx, a, a.model, from_store));
    VQI_ASSIGN_OR_RETURN(double m8, Map50Of(ctx, a, a.out, from_store));
    j["map50_fp32"] = m32;
    j["map50_int8"] = m8;
    j["map50_change"] = m8 - m32;
    std::printf("mAP50 on %s: float32 %.4f, int8 %.4f, change %+.4f\n",
                a.eval_images.empty() ? (a.split + "/" + a.eval_part).c_str()
                                      : a.eval_images.c_str(),
                m32, m8, m8 - m32);
  }
  if (ctx.json) std::printf("%s\n", j.dump(2).c_str());
  return Status::Ok();
}

const bool kRegistered = Register([](CLI::App& app, Context& ctx) {
  CLI::App& model = Noun(app, "model", "Train, evaluate and run detectors");
  auto* a = new QuantizeArgs();  // lives for the process
  auto* cmd = model.add_subcommand(
      "quantize", "Write an int8 QDQ model (post-training static quantization) calibrated on "
                  "images, and report the mAP change on the validation split");
  cmd->add_option("--model", a->model, "ONNX model (float32 weights)")->required();
  cmd->add_option("--calib", a->calib, "calibration images: a folder, or a dataset store name")
      ->required();
  cmd->add_option("--out", a->out, "ONNX file to write")->required();
  cmd->add_option("--split", a->split, "split snapshot (dataset calibration)")->capture_default_str();
  cmd->add_option("--calib-part", a->calib_part, "split part to calibrate on")->capture_default_str();
  cmd->add_option("--eval-part", a->eval_part, "split part the mAP change is measured on")
      ->capture_default_str();
  cmd->add_option("--eval-images", a->eval_images, "folder with YOLO labels: measure mAP50 on it");
  cmd->add_flag("--no-eval", a->no_eval, "skip the mAP comparison");
  cmd->add_option("--max-images", a->max_images, "calibration images used (evenly spaced; 0: all)")
      ->capture_default_str();
  cmd->add_option("--keep-float", a->keep_float,
                  "Conv node names to leave in float (the DFL decoder always is)")
      ->delimiter(',');
  cmd->add_option("--method", a->options.method, "minmax | percentile")->capture_default_str();
  cmd->add_option("--percentile", a->options.percentile, "percentile of |x| (method percentile)")
      ->capture_default_str();
  cmd->add_option("--backend", a->backend, "backend for the mAP comparison")->capture_default_str();
  cmd->callback([a, &ctx] { Exit(RunQuantize(*a, ctx)); });
});

}  // namespace
}  // namespace vqi::cli
