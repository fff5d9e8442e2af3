// JPEG decoding, the largest part of vqi-inspect's time beyond the model (issue 20 acceptance 8;
// the decoder itself is issue 22's). Decodes the same files with what vqi-inspect uses today
// (cv::imdecode, IMREAD_COLOR, through yolo::DecodeImageBytes), the same without the EXIF
// orientation step (IMREAD_IGNORE_ORIENTATION) and with libjpeg-turbo directly
// to BGR (JCS_EXT_BGR: no separate channel swap), checks that both give the same pixels, and
// prints one JSON line per decoder: per-image p50/mean over ROUNDS passes.
//
//   build/<dir>/bench/decode_bench [DIR_OF_JPEGS] [ROUNDS]
// Without a folder (or with no JPEG in it) it encodes a synthetic 450×300 image (skipped
// clearly: the numbers then say "synthetic").
#include <algorithm>
#include <chrono>
#include <csetjmp>
#include <cstddef>
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

// clang-format off
#include <jpeglib.h>  // after <cstdio>: it needs size_t and FILE
// clang-format on

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct ErrorMgr {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
};

extern "C" void OnJpegError(j_common_ptr cinfo) {
  std::longjmp(reinterpret_cast<ErrorMgr*>(cinfo->err)->jump, 1);
}

// libjpeg-turbo straight into a BGR buffer (rows `width * 3` bytes). False on a decode error.
bool DecodeTurboBgr(const std::string& bytes, std::vector<unsigned char>* out, int* w, int* h) {
  jpeg_decompress_struct cinfo;
  ErrorMgr err;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = OnJpegError;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  jpeg_read_header(&cinfo, TRUE);
  cinfo.out_color_space = JCS_EXT_BGR;
  jpeg_start_decompress(&cinfo);
  *w = static_cast<int>(cinfo.output_width);
  *h = static_cast<int>(cinfo.output_height);
  const size_t stride = static_cast<size_t>(*w) * 3;
  out->resize(stride * *h);
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out->data() + stride * cinfo.output_scanline;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

double Pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : "../shared/datasets/metal-tags/images";
  const int rounds = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
  std::vector<std::string> files;
  std::error_code ec;
  if (fs::is_directory(dir, ec))
    for (const auto& e : fs::recursive_directory_iterator(dir, ec))
      if (e.is_regular_file() &&
          (e.path().extension() == ".jpg" || e.path().extension() == ".jpeg"))
        files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  std::vector<std::string> images;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    images.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::string source = dir;
  if (images.empty()) {
    cv::Mat m(300, 450, CV_8UC3);
    cv::randu(m, 0, 255);
    cv::GaussianBlur(m, m, cv::Size(9, 9), 3);
    std::vector<unsigned char> buf;
    cv::imencode(".jpg", m, buf, {cv::IMWRITE_JPEG_QUALITY, 90});
    images.emplace_back(buf.begin(), buf.end());
    source = "synthetic 450x300 (no JPEGs under " + dir + ")";
  }
  std::vector<double> cv_ms, cv_noexif_ms, turbo_ms;
  size_t mismatched = 0, failed = 0;
  long pixels = 0;
  for (int r = 0; r < rounds; ++r) {
    for (const std::string& b : images) {
      auto t0 = Clock::now();
      cv::Mat m =
          cv::imdecode(cv::Mat(1, static_cast<int>(b.size()), CV_8UC1, const_cast<char*>(b.data())),
                       cv::IMREAD_COLOR);
      auto t1 = Clock::now();
      cv::Mat m2 =
          cv::imdecode(cv::Mat(1, static_cast<int>(b.size()), CV_8UC1, const_cast<char*>(b.data())),
                       cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION);
      auto t1b = Clock::now();
      std::vector<unsigned char> px;
      int w = 0, h = 0;
      const bool ok = DecodeTurboBgr(b, &px, &w, &h) && !m2.empty();
      auto t2 = Clock::now();
      if (m.empty() || !ok) {
        ++failed;
        continue;
      }
      cv_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      cv_noexif_ms.push_back(std::chrono::duration<double, std::milli>(t1b - t1).count());
      turbo_ms.push_back(std::chrono::duration<double, std::milli>(t2 - t1b).count());
      if (r == 0) {
        pixels += static_cast<long>(w) * h;
        bool same = m.cols == w && m.rows == h && m.isContinuous();
        if (same) same = std::memcmp(m.data, px.data(), px.size()) == 0;
        if (!same) ++mismatched;
      }
    }
  }
  if (cv_ms.empty()) {
    std::fprintf(stderr, "decode_bench: nothing decoded (%zu failures)\n", failed);
    return 1;
  }
  const size_t n = images.size();
  auto line = [&](const char* name, const std::vector<double>& v) {
    double sum = 0;
    for (double x : v) sum += x;
    std::printf(
        "{\"op\":\"decode\",\"decoder\":\"%s\",\"images\":%zu,\"rounds\":%d,\"p50_ms\":%.3f,"
        "\"mean_ms\":%.3f,\"p95_ms\":%.3f,\"mean_pixels\":%ld}\n",
        name, n, rounds, Pct(v, .5), sum / v.size(), Pct(v, .95), pixels / static_cast<long>(n));
  };
  std::printf("# source: %s\n", source.c_str());
  line("cv::imdecode IMREAD_COLOR (vqi-inspect today)", cv_ms);
  line("cv::imdecode IMREAD_COLOR|IMREAD_IGNORE_ORIENTATION", cv_noexif_ms);
  line("libjpeg-turbo JCS_EXT_BGR", turbo_ms);
  std::printf("{\"op\":\"decode_equal\",\"images\":%zu,\"different_pixels\":%zu,\"failed\":%zu}\n",
              n, mismatched, failed);
  return 0;
}
