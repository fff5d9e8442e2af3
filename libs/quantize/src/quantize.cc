#include "vqi/quantize/quantize.h"

#include <chrono>

#include "vqi/base/file.h"
#include "vqi/dataset/store.h"
#include "vqi/infer/model_file.h"
#include "vqi/infer/observe.h"
#include "vqi/yolo/image.h"
#include "vqi/yolo/labels.h"
#include "vqi/yolo/letterbox.h"

namespace vqi::quantize {

namespace {

Result<std::vector<std::string>> CalibrationImages(const CalibrationSource& c) {
  std::vector<std::string> files;
  if (!c.folder.empty()) {
    VQI_ASSIGN_OR_RETURN(files, yolo::ListImages(c.folder));
  } else {
    VQI_ASSIGN_OR_RETURN(auto store, dataset::Store::Open(c.home, c.dataset, /*create=*/false));
    VQI_ASSIGN_OR_RETURN(auto samples, store->SplitSamples(c.split, c.part));
    if (samples.empty())
      return InvalidArgument("--calib '" + c.dataset + "': not a folder, and part '" + c.part +
                             "' of split '" + c.split + "' in that dataset has no images");
    for (const auto& s : samples) files.push_back(s.path);
  }
  if (c.max_images < 0)
    return InvalidArgument("max-images " + std::to_string(c.max_images) + ": must be >= 0");
  if (c.max_images > 0 && static_cast<int>(files.size()) > c.max_images) {
    std::vector<std::string> picked;  // evenly spaced, deterministic
    for (int i = 0; i < c.max_images; ++i)
      picked.push_back(
          files[files.size() * static_cast<size_t>(i) / static_cast<size_t>(c.max_images)]);
    files = std::move(picked);
  }
  return files;
}

}  // namespace

Result<QuantizeResult> Quantize(const QuantizeRequest& r,
                                const std::function<void(int, int)>& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  // Parsed once (planning, calibration and writing all use this proto) and checked against the
  // detection contract: a graph that is not a detector is refused here rather than quantized
  // into a file nothing can use.
  VQI_ASSIGN_OR_RETURN(infer::OnnxModel model, infer::LoadOnnxModel(r.model));
  const std::string& bytes = *model.bytes;
  VQI_ASSIGN_OR_RETURN(onnx::QuantizationPlan plan,
                       onnx::PlanQuantization(*model.proto, r.model, r.keep_float));
  VQI_ASSIGN_OR_RETURN(std::vector<std::string> files, CalibrationImages(r.calib));
  const std::vector<std::string> names = plan.Activations();
  VQI_ASSIGN_OR_RETURN(auto observer,
                       infer::OpenTensorObserver(*model.proto, r.model, names, r.threads));
  const int h = static_cast<int>(model.info.input_shape[2]);
  const int w = static_cast<int>(model.info.input_shape[3]);
  std::vector<float> input(static_cast<size_t>(3 * h * w));
  std::vector<uint8_t> scratch;
  onnx::ActivationRanges ranges;
  QuantizeResult out;
  int done = 0;
  for (const std::string& f : files) {
    ++done;
    auto img = yolo::DecodeImageFile(f);
    if (!img.ok()) {  // a bad calibration image is skipped, and said
      out.skipped.push_back(img.status());
      continue;
    }
    yolo::LetterboxToTensor(img->View(), w, h, input.data(), &scratch);
    VQI_RETURN_IF_ERROR(
        observer->Run(input.data(), [&](const std::string& name, const float* data, int64_t count) {
          ranges.Observe(name, data, count);
        }));
    ++out.calibration_images;
    if (progress) progress(done, static_cast<int>(files.size()));
  }
  if (out.calibration_images == 0)
    return InvalidArgument("--calib '" +
                           (r.calib.folder.empty() ? r.calib.dataset : r.calib.folder) +
                           "': no image decoded");
  for (const auto& n : names)
    if (ranges.NonFinite(n) > 0)
      out.non_finite.push_back(n + ": " + std::to_string(ranges.NonFinite(n)) + " values");
  onnx::QuantizeOptions options = r.options;
  options.provenance = {
      {"source", r.calib.folder.empty() ? r.calib.dataset : r.calib.folder},
      {"images", out.calibration_images},
      {"split", r.calib.folder.empty() ? r.calib.split + "/" + r.calib.part : ""}};
  VQI_ASSIGN_OR_RETURN(auto scales, onnx::GroupScales(plan, ranges, options));
  VQI_ASSIGN_OR_RETURN(std::string q,
                       onnx::WriteQdqModel(*model.proto, r.model, plan, scales, options));
  VQI_RETURN_IF_ERROR(WriteFileAtomic(r.out, q));
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out.bytes_fp32 = bytes.size();
  out.bytes_int8 = q.size();
  out.convs = plan.convs;
  out.groups = plan.groups.size();
  if (r.evaluate) {
    VQI_ASSIGN_OR_RETURN(detect::Map50Change c,
                         detect::CompareMap50(r.model, r.out, {r.threads, r.backend}, *r.evaluate));
    out.map50 = c;
  }
  return out;
}

}  // namespace vqi::quantize
