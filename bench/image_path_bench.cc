// Issue 22 acceptance 2: the image path before and after, alternating per image in one run.
//   before:  cv::imdecode (IMREAD_COLOR) -> cv::resize INTER_LINEAR into a scratch image -> gray
//            fill of the whole tensor -> RGB / 255 planes (libs/yolo before issue 22)
//   full:    yolo::DecodeImageBytes (libjpeg-turbo, full size) -> one-pass LetterboxToTensor
//   reduced: the same with DCT scaling toward the model input (what vqi-inspect and
//            `vqi bench infer` do by default)
// Checks that `full` gives the tensor of `before` bit for bit and reports how far `reduced` is
// (mean / max |difference| in 0..255 levels), then one JSON line per path with decode and pre
// p50/p95 per image, and the ratios to `before`.
//
//   build/<dir>/bench/image_path_bench [DIR_OF_IMAGES] [ROUNDS] [WxH]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "vqi/yolo/image.h"
#include "vqi/yolo/jpeg.h"
#include "vqi/yolo/labels.h"
#include "vqi/yolo/letterbox.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace vqi;

namespace {

// libs/yolo's LetterboxToTensor before issue 22, verbatim in substance.
void BeforeLetterbox(const cv::Mat& bgr, int w, int h, float* out, cv::Mat* scratch) {
  static float unit[256];
  static bool init = false;
  if (!init) {
    for (int i = 0; i < 256; ++i) unit[i] = static_cast<float>(i) / 255.0f;
    init = true;
  }
  const yolo::Letterbox lb = yolo::PlanLetterbox(bgr.cols, bgr.rows, w, h);
  const int nw = static_cast<int>(std::lround(bgr.cols * lb.scale));
  const int nh = static_cast<int>(std::lround(bgr.rows * lb.scale));
  const cv::Mat* src = &bgr;
  if (nw != bgr.cols || nh != bgr.rows) {
    cv::resize(bgr, *scratch, cv::Size(nw, nh), 0, 0, cv::INTER_LINEAR);
    src = scratch;
  }
  const int hw = w * h;
  std::fill(out, out + 3 * hw, unit[114]);
  const int top = static_cast<int>(lb.pad_y), left = static_cast<int>(lb.pad_x);
  for (int y = 0; y < std::min(nh, h - top); ++y) {
    const uint8_t* p = src->ptr<uint8_t>(y);
    const int base = (y + top) * w + left;
    for (int x = 0; x < std::min(nw, w - left); ++x, p += 3) {
      out[2 * hw + base + x] = unit[p[0]];
      out[hw + base + x] = unit[p[1]];
      out[base + x] = unit[p[2]];
    }
  }
}

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double Pct(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

struct Path {
  const char* name;
  std::vector<double> decode, pre;
};

}  // namespace

int main(int argc, char** argv) {
  // Without a folder: the metal tags beside the checkout (bench/run.sh runs it so).
  const std::string dir = argc > 1 ? argv[1] : "../shared/datasets/metal-tags/images";
  const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  int w = 320, h = 224;
  if (argc > 3 && std::sscanf(argv[3], "%dx%d", &w, &h) != 2) {
    std::fprintf(stderr, "usage: image_path_bench [DIR] [ROUNDS] [WxH]\n");
    return 2;
  }
  auto files = yolo::ListImages(dir);
  if (!files.ok()) {
    std::printf("# skipped: %s\n", files.status().ToString().c_str());
    return 0;
  }
  std::vector<std::string> bytes;
  for (const auto& f : *files) {
    std::ifstream in(f, std::ios::binary);
    bytes.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::vector<float> t_before(3 * w * h), t_full(t_before.size()), t_red(t_before.size());
  cv::Mat scratch_mat;
  std::vector<uint8_t> scratch;
  Path before{"before: cv::imdecode + cv::resize + layout pass", {}, {}};
  Path full{"full: libjpeg-turbo + one-pass letterbox", {}, {}};
  Path red{"reduced: libjpeg-turbo DCT-reduced + one-pass letterbox", {}, {}};
  size_t not_exact = 0, failed = 0;
  double red_sum = 0, red_max = 0;
  size_t red_n = 0;
  std::vector<int> scales;
  for (int r = 0; r < rounds; ++r) {
    for (size_t i = 0; i < bytes.size(); ++i) {
      const std::string& b = bytes[i];
      const std::string& name = (*files)[i];
      // Rotate the order per image so no path always runs first (cache warmth).
      for (int k = 0; k < 3; ++k) {
        const int which = static_cast<int>((i + r + k) % 3);
        if (which == 0) {
          const auto t0 = Clock::now();
          cv::Mat m = cv::imdecode(
              cv::Mat(1, static_cast<int>(b.size()), CV_8UC1, const_cast<char*>(b.data())),
              cv::IMREAD_COLOR);
          const auto t1 = Clock::now();
          if (m.empty()) {
            ++failed;
            continue;
          }
          BeforeLetterbox(m, w, h, t_before.data(), &scratch_mat);
          const auto t2 = Clock::now();
          before.decode.push_back(Ms(t0, t1));
          before.pre.push_back(Ms(t1, t2));
        } else {
          Path& p = which == 1 ? full : red;
          yolo::DecodeOptions o;
          if (which == 2) o = {w, h};
          const auto t0 = Clock::now();
          auto img = yolo::DecodeImageBytes(b, name, o);
          const auto t1 = Clock::now();
          if (!img.ok()) {
            ++failed;
            continue;
          }
          yolo::LetterboxToTensor(img->View(), img->source_width, img->source_height, w, h,
                                  which == 1 ? t_full.data() : t_red.data(), &scratch);
          const auto t2 = Clock::now();
          p.decode.push_back(Ms(t0, t1));
          p.pre.push_back(Ms(t1, t2));
          if (r == 0 && which == 2) scales.push_back(img->width * 8 / img->source_width);
        }
      }
      if (r == 0) {
        if (std::memcmp(t_before.data(), t_full.data(), t_full.size() * sizeof(float)) != 0)
          ++not_exact;
        for (size_t j = 0; j < t_full.size(); ++j) {
          const double d = std::abs(t_full[j] - t_red[j]) * 255;
          red_sum += d;
          red_max = std::max(red_max, d);
          ++red_n;
        }
      }
    }
  }
  std::printf("# %zu images from %s, %d rounds, input %dx%d\n", bytes.size(), dir.c_str(), rounds,
              w, h);
  const double b_dec = Pct(before.decode, .5), b_pre = Pct(before.pre, .5);
  for (const Path* p : {&before, &full, &red})
    std::printf(
        "{\"path\":\"%s\",\"decode_p50_ms\":%.3f,\"decode_p95_ms\":%.3f,\"pre_p50_ms\":%.3f,"
        "\"pre_p95_ms\":%.3f,\"decode_ratio\":%.2f,\"pre_ratio\":%.2f,\"sum_ratio\":%.2f}\n",
        p->name, Pct(p->decode, .5), Pct(p->decode, .95), Pct(p->pre, .5), Pct(p->pre, .95),
        Pct(p->decode, .5) / b_dec, Pct(p->pre, .5) / b_pre,
        (Pct(p->decode, .5) + Pct(p->pre, .5)) / (b_dec + b_pre));
  std::printf(
      "{\"check\":\"full vs before tensors\",\"images_not_bit_exact\":%zu,\"failed\":%zu}\n"
      "{\"check\":\"reduced vs full tensors\",\"mean_abs_levels\":%.3f,\"max_abs_levels\":%.0f,"
      "\"dct_scale_of_first_image\":\"%d/8\"}\n",
      not_exact, failed, red_n ? red_sum / red_n : 0, red_max, scales.empty() ? 8 : scales[0]);
  return not_exact == 0 && failed == 0 ? 0 : 1;
}
