#include "vqi/yolo/image.h"

#include <filesystem>
#include <opencv2/imgcodecs.hpp>

#include "vqi/base/file.h"

namespace vqi::yolo {

Result<Image> DecodeImageBytes(const std::string& bytes, const std::string& where) {
  if (bytes.empty()) return InvalidArgument(where + ": cannot decode image: empty file");
  cv::Mat m;
  try {
    m = cv::imdecode(
        cv::Mat(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data())),
        cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    return InvalidArgument(where + ": cannot decode image: " + e.what());
  }
  if (m.empty() || m.type() != CV_8UC3)
    return InvalidArgument(where +
                           ": cannot decode image (not a supported image format, or "
                           "truncated)");
  Image img;
  img.width = m.cols;
  img.height = m.rows;
  img.stride = m.step;
  auto holder = std::make_shared<cv::Mat>(std::move(m));  // no copy: the pixels stay put
  img.data = std::shared_ptr<uint8_t>(holder, holder->data);
  return img;
}

Result<Image> DecodeImageFile(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return InvalidArgument(path + ": is a directory, not an image file");
  VQI_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return DecodeImageBytes(bytes, path);
}

}  // namespace vqi::yolo
