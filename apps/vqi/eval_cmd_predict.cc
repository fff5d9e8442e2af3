// `vqi model predict`: detections as JSON lines on stdout, and with --out a predictions.json
// and annotated copies of the images (OpenCV imgproc/imgcodecs).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "detectors.h"
#include "eval_cmd.h"
#include "vqi/base/file.h"
#include "vqi/eval/predictions.h"

namespace vqi::cli {
namespace {

cv::Scalar ClassColor(int class_id) {
  static const cv::Scalar kColors[] = {
      {56, 56, 255}, {151, 157, 255}, {31, 112, 255}, {29, 178, 255}, {49, 210, 207},
      {10, 249, 72}, {23, 204, 146},  {134, 219, 61}, {211, 188, 0},  {255, 115, 100}};
  return kColors[static_cast<unsigned>(class_id) % std::size(kColors)];
}

// Draws boxes with "class score" tags onto `bgr`.
void Annotate(cv::Mat& bgr, const std::vector<eval::Detection>& dets,
              const std::vector<std::string>& names) {
  const int thickness = std::max(1, static_cast<int>(std::lround((bgr.cols + bgr.rows) / 600.0)));
  const double font = 0.4 * thickness;
  for (const eval::Detection& d : dets) {
    const cv::Scalar color = ClassColor(d.class_id);
    const cv::Point p1(static_cast<int>(d.x1), static_cast<int>(d.y1));
    const cv::Point p2(static_cast<int>(d.x2), static_cast<int>(d.y2));
    cv::rectangle(bgr, p1, p2, color, thickness, cv::LINE_AA);
    char text[128];
    const std::string name = d.class_id >= 0 && d.class_id < static_cast<int>(names.size())
                                 ? names[d.class_id]
                                 : std::to_string(d.class_id);
    std::snprintf(text, sizeof text, "%s %.2f", name.c_str(), d.score);
    int baseline = 0;
    const cv::Size ts = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, font, 1, &baseline);
    const int top = p1.y - ts.height - baseline - 2 >= 0 ? p1.y - ts.height - baseline - 2 : p1.y;
    cv::rectangle(bgr, cv::Point(p1.x, top),
                  cv::Point(p1.x + ts.width + 2, top + ts.height + baseline + 2), color,
                  cv::FILLED);
    cv::putText(bgr, text, cv::Point(p1.x + 1, top + ts.height + 1), cv::FONT_HERSHEY_SIMPLEX, font,
                cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
  }
}

// Writes the annotated copy of `path` into `out_dir`; returns its size through w/h.
Status WriteAnnotated(const std::string& path, const std::string& out_dir,
                      const std::vector<eval::Detection>& dets,
                      const std::vector<std::string>& names, int* w, int* h) {
  try {
    cv::Mat bgr = cv::imread(path, cv::IMREAD_COLOR);
    if (bgr.empty()) return InvalidArgument(path + ": cannot decode image");
    *w = bgr.cols;
    *h = bgr.rows;
    Annotate(bgr, dets, names);
    const std::string out = out_dir + "/" + std::filesystem::path(path).filename().string();
    if (!cv::imwrite(out, bgr)) return Unavailable(out + ": cannot write annotated image");
  } catch (const cv::Exception& e) {
    return InvalidArgument(path + ": " + e.what());
  }
  return Status::Ok();
}

}  // namespace

Status RunPredict(const Context& ctx, const PredictFlags& f) {
  if (f.image.empty() == f.images.empty())
    return InvalidArgument("give exactly one of --image FILE or --images DIR");
  std::vector<std::string> files;
  if (!f.image.empty()) {
    if (!FileExists(f.image)) return NotFound(f.image + ": no such file");
    files.push_back(f.image);
  } else {
    VQI_ASSIGN_OR_RETURN(files, ListImages(f.images));
  }
  if (!f.out.empty()) {
    VQI_RETURN_IF_ERROR(MakeDirs(f.out));
    const std::string canon_out = std::filesystem::weakly_canonical(f.out).string();
    for (const std::string& file : files)
      if (std::filesystem::weakly_canonical(file).parent_path().string() == canon_out)
        return InvalidArgument("--out " + f.out +
                               " is the images folder: annotated copies would overwrite them");
  }
  VQI_ASSIGN_OR_RETURN(auto detector, OpenDetector(f.model, {ctx.threads, f.backend}));
  const std::vector<std::string> names = detector->ClassNames();

  std::vector<OrderedJson> entries;
  int failed = 0;
  size_t total_dets = 0;
  double seconds = 0;
  for (const std::string& file : files) {
    const auto start = std::chrono::steady_clock::now();
    Result<std::vector<eval::Detection>> dets = detector->Detect(file, f.detect);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    int w = 0, h = 0;
    Status st = dets.status();
    if (st.ok() && !f.out.empty()) st = WriteAnnotated(file, f.out, *dets, names, &w, &h);
    if (!st.ok()) {
      std::fprintf(stderr, "error: %s\n", st.ToString().c_str());
      ++failed;
      continue;
    }
    total_dets += dets->size();
    OrderedJson entry = eval::PredictionToJson(file, w, h, *dets, names);
    std::printf("%s\n", entry.dump().c_str());
    std::fflush(stdout);
    entries.push_back(std::move(entry));
  }
  if (!f.out.empty()) {
    const std::string path = f.out + "/predictions.json";
    VQI_RETURN_IF_ERROR(WriteFileAtomic(
        path,
        eval::PredictionsFileJson(detector->Describe(), names, std::move(entries)).dump(1) + "\n"));
    std::fprintf(stderr, "wrote %s and annotated images\n", path.c_str());
  }
  const int done = static_cast<int>(files.size()) - failed;
  const std::string failures = failed ? ", " + std::to_string(failed) + " failed" : "";
  std::fprintf(stderr, "%s: %d images, %zu detections, %.1f ms/image%s\n",
               detector->Describe().c_str(), done, total_dets, done ? 1000.0 * seconds / done : 0.0,
               failures.c_str());
  if (failed) ExitCode(1);
  return Status::Ok();
}

}  // namespace vqi::cli
