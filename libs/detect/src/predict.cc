#include "vqi/detect/predict.h"

#include <chrono>
#include <filesystem>

#include "annotate.h"
#include "vqi/base/file.h"
#include "vqi/detect/open.h"
#include "vqi/eval/predictions.h"
#include "vqi/yolo/image.h"
#include "vqi/yolo/labels.h"

namespace vqi::detect {

Result<std::vector<std::string>> PredictInputs(const std::string& image,
                                               const std::string& folder) {
  if (image.empty() == folder.empty())
    return InvalidArgument("give exactly one of --image FILE or --images DIR");
  if (folder.empty()) {
    std::error_code ec;
    if (std::filesystem::is_directory(image, ec))
      return InvalidArgument(image + ": is a directory; use --images DIR for a folder");
    if (!FileExists(image)) return NotFound(image + ": no such file");
    return std::vector<std::string>{image};
  }
  return yolo::ListImages(folder);
}

Result<PredictSummary> PredictFiles(eval::Detector& detector, const std::vector<std::string>& files,
                                    const PredictOptions& options,
                                    const std::function<void(const ImagePrediction&)>& on_image) {
  VQI_RETURN_IF_ERROR(ValidateDetectOptions(options.detect));
  const bool write = !options.out_dir.empty();
  if (write) {
    const std::string canon_out = std::filesystem::weakly_canonical(options.out_dir).string();
    for (const std::string& file : files)
      if (std::filesystem::weakly_canonical(file).parent_path().string() == canon_out)
        return InvalidArgument("--out " + options.out_dir +
                               " is the images folder: annotated copies would overwrite them");
  }
  const std::vector<std::string> names = detector.ClassNames();
  PredictSummary sum;
  sum.detector = detector.Describe();
  std::vector<OrderedJson> entries;
  std::vector<Status> failures;  // the first kListedFailures, for the all-failed error
  constexpr size_t kListedFailures = 5;
  bool made_out_dir = false;  // created with the first successful image, not before
  for (const std::string& file : files) {
    ImagePrediction p;
    p.file = file;
    const auto start = std::chrono::steady_clock::now();
    // The detector decodes the file its own way (an ONNX detector as vqi-inspect does: a large
    // JPEG DCT-reduced toward the model input), so predict reports what a device would; the
    // full image is decoded only for the annotated copy.
    Result<std::vector<eval::Detection>> dets = detector.Detect(file, options.detect);
    Result<yolo::Image> img =
        dets.ok() && write ? yolo::DecodeImageFile(file) : Result<yolo::Image>(yolo::Image{});
    if (dets.ok() && !img.ok()) dets = img.status();
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    p.status = dets.status();
    if (p.status.ok() && write && !made_out_dir) {
      p.status = MakeDirs(options.out_dir);
      made_out_dir = p.status.ok();
    }
    if (p.status.ok() && write) {
      const std::string out =
          options.out_dir + "/" + std::filesystem::path(file).filename().string();
      p.status = WriteAnnotated(*img, *dets, names, out);
    }
    if (!p.status.ok()) {
      ++sum.failed;
      if (failures.size() < kListedFailures) failures.push_back(p.status);
      if (on_image) on_image(p);
      continue;
    }
    sum.seconds += secs;
    ++sum.images;
    p.width = img->width;
    p.height = img->height;
    p.detections = std::move(dets).value();
    sum.detections += p.detections.size();
    // Width and height are written only with --out, as before the use case moved here.
    p.entry = eval::PredictionToJson(file, write ? p.width : 0, write ? p.height : 0, p.detections,
                                     names);
    if (write) entries.push_back(p.entry);
    if (on_image) on_image(p);
  }
  if (!files.empty() && sum.images == 0) {
    std::string msg = "every one of the " + std::to_string(files.size()) + " images failed" +
                      (write ? ", nothing written to " + options.out_dir : "") + ":";
    for (const Status& f : failures) msg += "\n  " + f.message();
    if (sum.failed > static_cast<int>(failures.size()))
      msg += "\n  ... and " + std::to_string(static_cast<size_t>(sum.failed) - failures.size()) +
             " more";
    return Status(failures.front().code(), msg);
  }
  if (write) {
    sum.predictions_file = options.out_dir + "/predictions.json";
    VQI_RETURN_IF_ERROR(WriteFileAtomic(
        sum.predictions_file,
        eval::PredictionsFileJson(sum.detector, names, std::move(entries)).dump(1) + "\n"));
  }
  return sum;
}

Result<std::vector<eval::Detection>> PredictFrame(eval::Detector& detector,
                                                  const eval::ImageView& bgr,
                                                  const std::string& name,
                                                  const eval::DetectOptions& detect) {
  VQI_RETURN_IF_ERROR(ValidateDetectOptions(detect));
  VQI_RETURN_IF_ERROR(yolo::CheckImageView(bgr, name));
  return detector.DetectImage(bgr, name, detect);
}

}  // namespace vqi::detect
