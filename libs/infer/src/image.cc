#include "vqi/infer/image.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "vqi/base/file.h"
#include "vqi/base/json.h"

namespace vqi::infer {

Result<cv::Mat> DecodeImageBytes(const std::string& bytes, const std::string& where) {
  if (bytes.empty()) return InvalidArgument(where + ": cannot decode image: empty file");
  cv::Mat m;
  try {
    m = cv::imdecode(cv::Mat(1, static_cast<int>(bytes.size()), CV_8UC1,
                             const_cast<char*>(bytes.data())),
                     cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    return InvalidArgument(where + ": cannot decode image: " + e.what());
  }
  if (m.empty())
    return InvalidArgument(where + ": cannot decode image (not a supported image format, or "
                           "truncated)");
  return m;
}

Result<cv::Mat> DecodeImageFile(const std::string& path) {
  VQI_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  return DecodeImageBytes(bytes, path);
}

Letterbox LetterboxToTensor(const cv::Mat& bgr, int w, int h, float* out, cv::Mat* scratch) {
  Letterbox lb;
  lb.src_w = bgr.cols;
  lb.src_h = bgr.rows;
  const double r = std::min(static_cast<double>(h) / bgr.rows, static_cast<double>(w) / bgr.cols);
  const int nw = static_cast<int>(std::lround(bgr.cols * r));
  const int nh = static_cast<int>(std::lround(bgr.rows * r));
  const double dw = (w - nw) / 2.0, dh = (h - nh) / 2.0;
  const int top = static_cast<int>(std::lround(dh - 0.1));
  const int left = static_cast<int>(std::lround(dw - 0.1));
  lb.scale = r;
  lb.pad_x = left;
  lb.pad_y = top;
  const cv::Mat* src = &bgr;
  if (nw != bgr.cols || nh != bgr.rows) {
    cv::resize(bgr, *scratch, cv::Size(nw, nh), 0, 0, cv::INTER_LINEAR);
    src = scratch;
  }
  const int hw = w * h;
  float* r_plane = out;
  float* g_plane = out + hw;
  float* b_plane = out + 2 * hw;
  constexpr float kGray = 114.f / 255.f;
  std::fill(out, out + 3 * hw, kGray);
  const int rows = std::min(nh, h - top), cols = std::min(nw, w - left);
  for (int y = 0; y < rows; ++y) {
    const uint8_t* p = src->ptr<uint8_t>(y);
    const int base = (y + top) * w + left;
    for (int x = 0; x < cols; ++x, p += 3) {
      b_plane[base + x] = p[0] * (1.f / 255.f);
      g_plane[base + x] = p[1] * (1.f / 255.f);
      r_plane[base + x] = p[2] * (1.f / 255.f);
    }
  }
  return lb;
}

std::vector<eval::Detection> DecodeOutput(const float* out, int nc, int64_t n,
                                          const Letterbox& lb, float conf) {
  std::vector<eval::Detection> dets;
  const float fw = static_cast<float>(lb.src_w), fh = static_cast<float>(lb.src_h);
  for (int64_t a = 0; a < n; ++a) {
    int best = 0;
    float score = out[4 * n + a];
    for (int c = 1; c < nc; ++c) {
      const float s = out[(4 + c) * n + a];
      if (s > score) score = s, best = c;
    }
    if (!(score >= conf)) continue;
    const float cx = out[a], cy = out[n + a], bw = out[2 * n + a], bh = out[3 * n + a];
    auto ux = [&](float v) {
      return std::clamp(static_cast<float>((v - lb.pad_x) / lb.scale), 0.f, fw);
    };
    auto uy = [&](float v) {
      return std::clamp(static_cast<float>((v - lb.pad_y) / lb.scale), 0.f, fh);
    };
    dets.push_back(
        {ux(cx - bw / 2), uy(cy - bh / 2), ux(cx + bw / 2), uy(cy + bh / 2), score, best});
  }
  return dets;
}

namespace {

// Parses Python's repr of a dict {int: str}, as Ultralytics writes `names`.
Result<std::vector<std::string>> ParsePyNames(const std::string& s) {
  std::map<int, std::string> m;
  size_t i = 0;
  auto bad = [&](const char* what) {
    return InvalidArgument("model metadata names: " + std::string(what) + " at offset " +
                           std::to_string(i) + " in " + s);
  };
  auto skip = [&] {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  };
  skip();
  if (i >= s.size() || s[i] != '{') return bad("expected '{'");
  ++i;
  skip();
  while (i < s.size() && s[i] != '}') {
    size_t end = i;
    while (end < s.size() && std::isdigit(static_cast<unsigned char>(s[end]))) ++end;
    if (end == i) return bad("expected a class index");
    const int key = std::stoi(s.substr(i, end - i));
    i = end;
    skip();
    if (i >= s.size() || s[i] != ':') return bad("expected ':'");
    ++i;
    skip();
    if (i >= s.size() || (s[i] != '\'' && s[i] != '"')) return bad("expected a quoted name");
    const char q = s[i++];
    std::string name;
    while (i < s.size() && s[i] != q) {
      if (s[i] == '\\' && i + 1 < s.size()) ++i;
      name += s[i++];
    }
    if (i >= s.size()) return bad("unterminated name");
    ++i;
    m[key] = name;
    skip();
    if (i < s.size() && s[i] == ',') ++i;
    skip();
  }
  if (i >= s.size()) return bad("expected '}'");
  std::vector<std::string> names;
  for (const auto& [k, v] : m) {
    if (k != static_cast<int>(names.size())) return bad("class indices are not 0..n-1");
    names.push_back(v);
  }
  if (names.empty()) return bad("no classes");
  return names;
}

}  // namespace

Result<std::vector<std::string>> ClassNamesFromMetadata(
    const std::map<std::string, std::string>& metadata) {
  if (auto it = metadata.find("vqi.class_names"); it != metadata.end()) {
    auto j = ParseJson(it->second, "model metadata vqi.class_names");
    if (j.ok() && j->is_array() && !j->empty()) {
      std::vector<std::string> names;
      for (const auto& v : *j)
        if (v.is_string()) names.push_back(v.get<std::string>());
      if (names.size() == j->size()) return names;
    }
  }
  if (auto it = metadata.find("names"); it != metadata.end()) return ParsePyNames(it->second);
  return InvalidArgument("model metadata has neither vqi.class_names nor names");
}

}  // namespace vqi::infer
