#include "test_util.h"

#include <stdlib.h>

#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

#include "vqi/base/file.h"

namespace vqi::dataset::testing {
namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "vqi-dataset-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string ImageBytes(int width, int height, int seed, const std::string& ext) {
  cv::Mat img(height, width, CV_8UC3, cv::Scalar(60 + seed % 100, 80, 100));
  cv::putText(img, std::to_string(seed), cv::Point(5, height / 2), cv::FONT_HERSHEY_SIMPLEX, 0.6,
              cv::Scalar(255, 255, 255), 1);
  std::vector<uchar> buf;
  if (!cv::imencode(ext, img, buf)) throw std::runtime_error("imencode failed");
  return std::string(buf.begin(), buf.end());
}

void WriteImage(const std::string& path, int width, int height, int seed, const std::string& ext) {
  WriteText(path, ImageBytes(width, height, seed, ext));
}

void WriteText(const std::string& path, const std::string& text) {
  if (!WriteFileAtomic(path, text).ok()) throw std::runtime_error("cannot write " + path);
}

}  // namespace vqi::dataset::testing
