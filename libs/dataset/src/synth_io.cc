#include "vqi/dataset/synth_io.h"

#include <opencv2/imgcodecs.hpp>

#include "vqi/base/file.h"
#include "vqi/base/hash.h"
#include "vqi/base/progress.h"
#include "vqi/dataset/limits.h"
#include "yolo_format.h"

namespace vqi::dataset {
namespace {

Result<std::string> EncodeJpeg(const cv::Mat& bgr) {
  std::vector<uchar> buf;
  try {
    if (!cv::imencode(".jpg", bgr, buf, {cv::IMWRITE_JPEG_QUALITY, 95}))
      return Internal("JPEG encoding failed");
  } catch (const cv::Exception& e) {
    return Internal(std::string("JPEG encoding failed: ") + e.what());
  }
  return std::string(buf.begin(), buf.end());
}

std::string SynthName(const SynthOptions& o, int i) {
  return "synth-s" + std::to_string(o.seed) + "-" + std::to_string(i) + ".jpg";
}

Status CheckOptions(const SynthOptions& o, int count) {
  if (count < 0 || count > kMaxSynthCount)
    return InvalidArgument("synth count " + std::to_string(count) + " is outside 0.." +
                           std::to_string(kMaxSynthCount));
  if (o.width < 64 || o.height < 64 || o.width > 8192 || o.height > 8192)
    return InvalidArgument("synth size must be between 64 and 8192 pixels per side");
  if (o.max_scratches < 1 || o.max_scratches > kMaxSynthScratches)
    return InvalidArgument("max scratches " + std::to_string(o.max_scratches) + " is outside 1.." +
                           std::to_string(kMaxSynthScratches));
  if (!(o.defect_probability >= 0 && o.defect_probability <= 1))
    return InvalidArgument("defect probability must be in [0, 1]");
  return Status::Ok();
}

}  // namespace

Result<SynthRunReport> SynthesizeToStore(Store& store, const SynthOptions& o, int count) {
  VQI_RETURN_IF_ERROR(CheckOptions(o, count));
  SynthRunReport report;
  Status st = store.Transaction([&]() -> Status {
    VQI_ASSIGN_OR_RETURN(int scratch, store.EnsureClass("scratch"));
    ProgressBar bar(count, "synthesizing");
    for (int i = 0; i < count; ++i) {
      SynthImage img = SynthesizeTag(o, static_cast<uint64_t>(i));
      VQI_ASSIGN_OR_RETURN(std::string bytes, EncodeJpeg(img.bgr));
      ImageRecord r;
      r.image_id = Sha256Hex(bytes);
      r.name = SynthName(o, i);
      r.capture_id = CaptureIdOf(r.name);
      r.width = img.bgr.cols;
      r.height = img.bgr.rows;
      r.format = "jpeg";
      r.source = "synth";
      VQI_ASSIGN_OR_RETURN(bool added, store.AddImage(r, bytes));
      for (Box& b : img.boxes) b.class_id = scratch;
      VQI_ASSIGN_OR_RETURN(auto current, store.CurrentLabel(r.image_id));
      if (!current || current->boxes != img.boxes) {
        LabelEvent e;
        e.image_id = r.image_id;
        e.boxes = img.boxes;
        e.event_time = 0;  // synthetic truth predates any human label
        e.job = "synth:seed=" + std::to_string(o.seed);
        VQI_RETURN_IF_ERROR(store.AppendLabel(e).status());
      }
      ++report.images;
      report.new_images += added ? 1 : 0;
      report.boxes += static_cast<int>(img.boxes.size());
      report.defective += img.boxes.empty() ? 0 : 1;
      bar.Update(i + 1);
    }
    bar.Finish();
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return report;
}

Result<SynthRunReport> SynthesizeToYolo(const std::string& dir, const SynthOptions& o, int count) {
  VQI_RETURN_IF_ERROR(CheckOptions(o, count));
  VQI_RETURN_IF_ERROR(MakeDirs(dir + "/images"));
  VQI_RETURN_IF_ERROR(MakeDirs(dir + "/labels"));
  SynthRunReport report;
  ProgressBar bar(count, "synthesizing");
  for (int i = 0; i < count; ++i) {
    const SynthImage img = SynthesizeTag(o, static_cast<uint64_t>(i));
    VQI_ASSIGN_OR_RETURN(std::string bytes, EncodeJpeg(img.bgr));
    const std::string name = SynthName(o, i);
    VQI_RETURN_IF_ERROR(WriteFileAtomic(dir + "/images/" + name, bytes));
    VQI_RETURN_IF_ERROR(WriteFileAtomic(dir + "/labels/" + name.substr(0, name.size() - 4) + ".txt",
                                        YoloLabelText(img.boxes, img.bgr.cols, img.bgr.rows)));
    ++report.images;
    ++report.new_images;
    report.boxes += static_cast<int>(img.boxes.size());
    report.defective += img.boxes.empty() ? 0 : 1;
    bar.Update(i + 1);
  }
  bar.Finish();
  VQI_RETURN_IF_ERROR(WriteDataYaml(dir, {"scratch"}, {""}));
  return report;
}

}  // namespace vqi::dataset
