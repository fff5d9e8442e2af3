#include "vqi/yolo/letterbox.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <opencv2/imgproc.hpp>

namespace vqi::yolo {

namespace {

// value / 255 for every byte (the exact quotient, as training has always computed it).
const std::array<float, 256>& Unit() {
  static const std::array<float, 256> kUnit = [] {
    std::array<float, 256> t{};
    for (int i = 0; i < 256; ++i) t[i] = static_cast<float>(i) / 255.0f;
    return t;
  }();
  return kUnit;
}

}  // namespace

Letterbox PlanLetterbox(int src_w, int src_h, int w, int h) {
  Letterbox lb;
  lb.src_w = src_w;
  lb.src_h = src_h;
  lb.scale = std::min(static_cast<double>(h) / src_h, static_cast<double>(w) / src_w);
  const int nw = static_cast<int>(std::lround(src_w * lb.scale));
  const int nh = static_cast<int>(std::lround(src_h * lb.scale));
  lb.pad_x = static_cast<int>(std::lround((w - nw) / 2.0 - 0.1));
  lb.pad_y = static_cast<int>(std::lround((h - nh) / 2.0 - 0.1));
  return lb;
}

void BgrToTensor(const ImageView& bgr, float* out) {
  const auto& unit = Unit();
  const size_t hw = static_cast<size_t>(bgr.width) * bgr.height;
  float* r = out;
  float* g = out + hw;
  float* b = out + 2 * hw;
  for (int y = 0; y < bgr.height; ++y) {
    const uint8_t* p = bgr.Row(y);
    const size_t base = static_cast<size_t>(y) * bgr.width;
    for (int x = 0; x < bgr.width; ++x, p += 3) {
      b[base + x] = unit[p[0]];
      g[base + x] = unit[p[1]];
      r[base + x] = unit[p[2]];
    }
  }
}

Letterbox LetterboxToTensor(const ImageView& bgr, int w, int h, float* out,
                            std::vector<uint8_t>* scratch) {
  const Letterbox lb = PlanLetterbox(bgr.width, bgr.height, w, h);
  const int nw = static_cast<int>(std::lround(bgr.width * lb.scale));
  const int nh = static_cast<int>(std::lround(bgr.height * lb.scale));
  ImageView src = bgr;
  if (nw != bgr.width || nh != bgr.height) {
    scratch->resize(static_cast<size_t>(nw) * nh * 3);
    const cv::Mat in(bgr.height, bgr.width, CV_8UC3, const_cast<uint8_t*>(bgr.data), bgr.stride);
    cv::Mat resized(nh, nw, CV_8UC3, scratch->data());
    cv::resize(in, resized, cv::Size(nw, nh), 0, 0, cv::INTER_LINEAR);
    src = {scratch->data(), nw, nh, static_cast<size_t>(nw) * 3};
  }
  const auto& unit = Unit();
  const int hw = w * h;
  float* r_plane = out;
  float* g_plane = out + hw;
  float* b_plane = out + 2 * hw;
  std::fill(out, out + 3 * hw, unit[114]);
  const int top = static_cast<int>(lb.pad_y), left = static_cast<int>(lb.pad_x);
  const int rows = std::min(nh, h - top), cols = std::min(nw, w - left);
  for (int y = 0; y < rows; ++y) {
    const uint8_t* p = src.Row(y);
    const int base = (y + top) * w + left;
    for (int x = 0; x < cols; ++x, p += 3) {
      b_plane[base + x] = unit[p[0]];
      g_plane[base + x] = unit[p[1]];
      r_plane[base + x] = unit[p[2]];
    }
  }
  return lb;
}

}  // namespace vqi::yolo
