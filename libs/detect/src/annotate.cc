#include "annotate.h"

#include <cmath>
#include <cstdio>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace vqi::detect {

namespace {

cv::Scalar ClassColor(int class_id) {
  static const cv::Scalar kColors[] = {
      {56, 56, 255}, {151, 157, 255}, {31, 112, 255}, {29, 178, 255}, {49, 210, 207},
      {10, 249, 72}, {23, 204, 146},  {134, 219, 61}, {211, 188, 0},  {255, 115, 100}};
  return kColors[static_cast<unsigned>(class_id) % std::size(kColors)];
}

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

}  // namespace

Status WriteAnnotated(yolo::Image& img, const std::vector<eval::Detection>& dets,
                      const std::vector<std::string>& names, const std::string& out_path) {
  try {
    cv::Mat bgr(img.height, img.width, CV_8UC3, img.data.get(), img.stride);
    Annotate(bgr, dets, names);
    if (!cv::imwrite(out_path, bgr))
      return Unavailable(out_path + ": cannot write annotated image");
  } catch (const cv::Exception& e) {
    return Unavailable(out_path + ": cannot write annotated image: " + e.what());
  }
  return Status::Ok();
}

}  // namespace vqi::detect
