#include "vqi/detect/compare.h"

#include <cmath>

#include "vqi/eval/nms.h"
#include "vqi/infer/detector.h"
#include "vqi/yolo/image.h"
#include "vqi/yolo/labels.h"

namespace vqi::detect {

Result<OutputDrift> CompareOutputs(const std::string& before, const std::string& after,
                                   const std::string& images, const ModelOptions& model) {
  VQI_ASSIGN_OR_RETURN(std::vector<std::string> files, yolo::ListImages(images));
  VQI_ASSIGN_OR_RETURN(auto d32, infer::OnnxDetector::Open(before, model.backend, {model.threads}));
  VQI_ASSIGN_OR_RETURN(auto d16, infer::OnnxDetector::Open(after, model.backend, {model.threads}));
  if (d32->LastOutput().size() != d16->LastOutput().size() ||
      d32->ClassNames().size() != d16->ClassNames().size())
    return InvalidArgument(after + ": output0 differs in shape from " + before);
  const eval::DetectOptions opt;  // predict defaults: conf 0.25
  OutputDrift d;
  for (const std::string& f : files) {
    VQI_ASSIGN_OR_RETURN(yolo::Image img, yolo::DecodeImageFile(f));
    VQI_ASSIGN_OR_RETURN(auto r32, d32->DetectImage(img.View(), f, opt));
    VQI_ASSIGN_OR_RETURN(auto r16, d16->DetectImage(img.View(), f, opt));
    const auto& o32 = d32->LastOutput();
    const auto& o16 = d16->LastOutput();
    const size_t box_end = o32.size() / (d32->ClassNames().size() + 4) * 4;
    for (size_t i = 0; i < o32.size(); ++i) {
      const double diff = std::fabs(static_cast<double>(o32[i]) - o16[i]);
      double& worst = i < box_end ? d.max_abs_box_diff_px : d.max_abs_score_diff;
      worst = std::max(worst, diff);
    }
    d.detections_before += static_cast<int64_t>(r32.size());
    for (const auto& x : r32)
      for (const auto& y : r16)
        if (x.class_id == y.class_id && eval::IoU(x, y) > 0.9f) {
          ++d.detections_matched;
          break;
        }
  }
  d.images = files.size();
  return d;
}

}  // namespace vqi::detect
