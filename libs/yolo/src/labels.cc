#include "vqi/yolo/labels.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>

namespace vqi::yolo {

namespace {

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t' && line[j] != '\r') ++j;
    if (j > i) out.push_back(line.substr(i, j - i));
    i = j;
  }
  return out;
}

bool ParseDouble(std::string_view s, double& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

Result<std::vector<eval::GtBox>> ParseYoloLabels(std::string_view text, int width, int height,
                                                 const std::string& where) {
  if (width <= 0 || height <= 0)
    return InvalidArgument(where + ": image size " + std::to_string(width) + "x" +
                           std::to_string(height) + " is not positive");
  static const char* kNames[] = {"class", "cx", "cy", "w", "h"};
  std::vector<eval::GtBox> boxes;
  int line_no = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t end = std::min(text.find('\n', pos), text.size());
    const std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    const std::vector<std::string_view> f = Fields(line);
    if (f.empty()) continue;
    const std::string at = where + ":" + std::to_string(line_no);
    if (f.size() != 5)
      return InvalidArgument(at + ": expected 5 fields (class cx cy w h), found " +
                             std::to_string(f.size()));
    double v[5];
    for (int k = 0; k < 5; ++k) {
      if (!ParseDouble(f[k], v[k]) || !std::isfinite(v[k]))
        return InvalidArgument(at + ": field " + kNames[k] + " '" + std::string(f[k]) +
                               "' is not a finite number");
    }
    if (v[0] < 0 || v[0] != std::floor(v[0]) || v[0] > 1e6)
      return InvalidArgument(at + ": class '" + std::string(f[0]) +
                             "' is not a non-negative integer");
    if (v[1] < 0 || v[1] > 1 || v[2] < 0 || v[2] > 1)
      return InvalidArgument(at + ": box centre outside [0, 1] (normalized coordinates?)");
    if (v[3] < 0 || v[4] < 0) return InvalidArgument(at + ": negative box size");
    auto clip = [](double x, int hi) { return static_cast<float>(std::clamp(x, 0.0, double(hi))); };
    eval::GtBox b;
    b.class_id = static_cast<int>(v[0]);
    b.x1 = clip((v[1] - v[3] / 2) * width, width);
    b.x2 = clip((v[1] + v[3] / 2) * width, width);
    b.y1 = clip((v[2] - v[4] / 2) * height, height);
    b.y2 = clip((v[2] + v[4] / 2) * height, height);
    boxes.push_back(b);
  }
  return boxes;
}

std::vector<std::string> YoloLabelCandidates(const std::string& image_path) {
  std::string stem = image_path;
  const size_t slash = stem.find_last_of('/');
  const size_t dot = stem.find_last_of('.');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) stem.resize(dot);
  std::vector<std::string> out;
  const size_t images = stem.rfind("/images/");
  if (images != std::string::npos) {
    out.push_back(stem.substr(0, images) + "/labels/" + stem.substr(images + 8) + ".txt");
  } else if (stem.starts_with("images/")) {
    out.push_back("labels/" + stem.substr(7) + ".txt");
  }
  out.push_back(stem + ".txt");
  return out;
}

const std::vector<std::string>& ImageExtensions() {
  static const std::vector<std::string> kExts = {".jpg", ".jpeg", ".png", ".bmp",
                                                 ".tif", ".tiff", ".webp"};
  return kExts;
}

bool HasImageExtension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto& e = ImageExtensions();
  return std::find(e.begin(), e.end(), ext) != e.end();
}

Result<std::vector<std::string>> ListImages(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return InvalidArgument(dir + ": not a folder");
  auto scan = [&](const fs::path& d) {
    std::vector<std::string> out;
    // increment(ec), not ++: a directory entry that cannot be read ends the scan, never throws.
    for (fs::directory_iterator it(d, ec), end; !ec && it != end; it.increment(ec))
      if (it->is_regular_file(ec) && HasImageExtension(it->path().string()))
        out.push_back(it->path().string());
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

}  // namespace vqi::yolo
