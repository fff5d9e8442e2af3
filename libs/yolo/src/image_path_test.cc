// Issue 22's image path against the one it replaced: the one-pass letterbox against OpenCV's
// cv::resize + the per-pixel layout loop (bit for bit), libjpeg-turbo decoding against
// cv::imdecode (bit for bit at full size; a documented bound when DCT-reduced), the scale
// choice, EXIF orientation, and corrupt or truncated JPEGs named in the error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "vqi/yolo/image.h"
#include "vqi/yolo/jpeg.h"
#include "vqi/yolo/letterbox.h"

namespace vqi::yolo {
namespace {

ImageView ViewOf(const cv::Mat& m) { return {m.data, m.cols, m.rows, m.step}; }

// The letterbox as it was before issue 22 (cv::resize INTER_LINEAR into a scratch image,
// then gray fill and the RGB / 255 planes): the reference the one-pass version must equal.
std::vector<float> ReferenceTensor(const cv::Mat& bgr, int w, int h) {
  const Letterbox lb = PlanLetterbox(bgr.cols, bgr.rows, w, h);
  const int nw = static_cast<int>(std::lround(bgr.cols * lb.scale));
  const int nh = static_cast<int>(std::lround(bgr.rows * lb.scale));
  cv::Mat src = bgr;
  if (nw != bgr.cols || nh != bgr.rows)
    cv::resize(bgr, src, cv::Size(nw, nh), 0, 0, cv::INTER_LINEAR);
  std::vector<float> t(static_cast<size_t>(3 * w * h), 114.f / 255.f);
  const int top = static_cast<int>(lb.pad_y), left = static_cast<int>(lb.pad_x);
  for (int y = 0; y < std::min(nh, h - top); ++y)
    for (int x = 0; x < std::min(nw, w - left); ++x) {
      const cv::Vec3b p = src.at<cv::Vec3b>(y, x);
      const size_t i = static_cast<size_t>(y + top) * w + left + x;
      t[i] = p[2] / 255.f;
      t[static_cast<size_t>(w) * h + i] = p[1] / 255.f;
      t[2 * static_cast<size_t>(w) * h + i] = p[0] / 255.f;
    }
  return t;
}

cv::Mat Photo(int w, int h, int seed) {  // noise, blurred: textured like a photo
  cv::Mat m(h, w, CV_8UC3);
  cv::RNG rng(seed);
  rng.fill(m, cv::RNG::UNIFORM, 0, 256);
  cv::GaussianBlur(m, m, cv::Size(5, 5), 1.5);
  return m;
}

TEST(OnePassLetterboxTest, EqualsResizeThenLayoutBitForBit) {
  for (bool simd : {true, false}) {
    internal::SetLetterboxSimd(simd);
    struct Case {
      int sw, sh, w, h;
    };
    // down (the tags), odd sizes, up, exact fit, exact 2x (OpenCV's area shortcut), tall, tiny.
    for (const Case c :
         {Case{450, 300, 320, 224}, Case{451, 301, 320, 224}, Case{338, 225, 320, 224},
          Case{100, 60, 320, 224}, Case{320, 213, 320, 224}, Case{640, 448, 320, 224},
          Case{90, 300, 64, 64}, Case{3, 2, 32, 32}, Case{1280, 960, 640, 640}}) {
      const cv::Mat img = Photo(c.sw, c.sh, c.sw * 7 + c.sh);
      const std::vector<float> want = ReferenceTensor(img, c.w, c.h);
      std::vector<float> got(want.size(), -1.f);
      std::vector<uint8_t> scratch;
      LetterboxToTensor(ViewOf(img), c.w, c.h, got.data(), &scratch);
      size_t diff = 0;
      for (size_t i = 0; i < want.size(); ++i) diff += want[i] != got[i];
      EXPECT_EQ(diff, 0u) << c.sw << "x" << c.sh << " -> " << c.w << "x" << c.h
                          << (simd ? " (SSE4.1 where the CPU has it)" : " (portable path)");
    }
  }
  internal::SetLetterboxSimd(true);
}

TEST(OnePassLetterboxTest, ScratchIsReusedAcrossSizes) {
  std::vector<uint8_t> scratch;
  std::vector<float> t(3 * 320 * 224);
  LetterboxToTensor(ViewOf(Photo(450, 300, 1)), 320, 224, t.data(), &scratch);
  const uint8_t* before = scratch.data();
  LetterboxToTensor(ViewOf(Photo(451, 299, 2)), 320, 224, t.data(), &scratch);
  EXPECT_EQ(scratch.data(), before);  // no new allocation for the same input size
}

std::string Jpeg(const cv::Mat& m, int quality = 90) {
  std::vector<uint8_t> buf;
  EXPECT_TRUE(cv::imencode(".jpg", m, buf, {cv::IMWRITE_JPEG_QUALITY, quality}));
  return std::string(buf.begin(), buf.end());
}

TEST(JpegTest, FullSizeDecodeEqualsOpenCv) {
  for (const cv::Mat& m : {Photo(450, 300, 3), Photo(17, 33, 4)}) {
    const std::string bytes = Jpeg(m);
    cv::Mat ref = cv::imdecode(
        cv::Mat(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data())),
        cv::IMREAD_COLOR);
    auto img = DecodeImageBytes(bytes, "a.jpg");
    ASSERT_TRUE(img.ok()) << img.status().ToString();
    EXPECT_FALSE(img->reduced());
    ASSERT_EQ(img->width, ref.cols);
    ASSERT_EQ(img->height, ref.rows);
    for (int y = 0; y < ref.rows; ++y)
      ASSERT_EQ(std::memcmp(img->View().Row(y), ref.ptr(y), ref.cols * 3), 0) << "row " << y;
  }
  cv::Mat gray(40, 50, CV_8UC1);
  cv::randu(gray, 0, 255);
  auto g = DecodeImageBytes(Jpeg(gray), "g.jpg");  // grayscale JPEG: BGR with equal channels
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->View().Row(7)[3 * 9], g->View().Row(7)[3 * 9 + 2]);
}

// The fast decode (DecodeOptions::fast: merged chroma upsampling) is not the exact one on a
// colourful photo, but stays close to it: the same size, a mean difference of a few levels (the
// real tags, whose chroma is nearly flat, decode to the same pixels), not a broken decode (a
// channel swap or a shifted row is tens of levels).
TEST(JpegTest, FastDecodeStaysCloseToTheExactOne) {
  const std::string bytes = Jpeg(Photo(450, 300, 3));
  DecodeOptions fast;
  fast.fast = true;
  auto exact = DecodeImageBytes(bytes, "a.jpg");
  auto quick = DecodeImageBytes(bytes, "a.jpg", fast);
  ASSERT_TRUE(exact.ok() && quick.ok());
  ASSERT_EQ(quick->width, exact->width);
  ASSERT_EQ(quick->height, exact->height);
  double sum = 0;
  int worst = 0;
  size_t differ = 0;
  for (int y = 0; y < exact->height; ++y)
    for (int x = 0; x < exact->width * 3; ++x) {
      const int d = std::abs(exact->View().Row(y)[x] - quick->View().Row(y)[x]);
      sum += d;
      worst = std::max(worst, d);
      differ += d != 0;
    }
  const double n = 3.0 * exact->width * exact->height;
  EXPECT_GT(differ, 0u);  // it is another decode, not the exact one under another name
  EXPECT_LT(sum / n, 5.0) << "worst " << worst;
  EXPECT_LE(worst, 96);
}

TEST(JpegTest, ScaleIsTheSmallestNotBelowTheLetterboxedSize) {
  // The metal tags: 450x300 into 320x224 letterboxes to 320x213; 1/2 gives 225x150: too
  // small, and 6/8 (338x225) has no SIMD IDCT: full size.
  EXPECT_EQ(JpegScaleFor(450, 300, 320, 224), 8);
  EXPECT_EQ(JpegScaleFor(900, 600, 320, 224), 4);    // 450x300 >= 320x213
  EXPECT_EQ(JpegScaleFor(1920, 1080, 320, 224), 2);  // 480x270 >= 320x180; 1/8 is 240 wide
  EXPECT_EQ(JpegScaleFor(640, 448, 320, 224), 4);    // exactly half
  EXPECT_EQ(JpegScaleFor(4000, 3000, 320, 224), 1);  // 500x375 at 1/8 still >= 299x224
  EXPECT_EQ(JpegScaleFor(300, 200, 320, 224), 8);    // enlarged: never reduced
  EXPECT_EQ(JpegScaleFor(320, 213, 320, 224), 8);    // already the letterboxed size
  for (int w : {450, 451, 999, 1280, 3000})
    for (int h : {300, 301, 720, 2000}) {
      const int k = JpegScaleFor(w, h, 320, 224);
      const Letterbox lb = PlanLetterbox(w, h, 320, 224);
      EXPECT_GE((w * k + 7) / 8, std::lround(w * lb.scale)) << w << "x" << h;
      EXPECT_GE((h * k + 7) / 8, std::lround(h * lb.scale)) << w << "x" << h;
      EXPECT_TRUE(k == 1 || k == 2 || k == 4 || k == 8) << k;
      if (k > 1) {  // the next smaller fast scale would be too small
        EXPECT_TRUE((w * (k / 2) + 7) / 8 < std::lround(w * lb.scale) ||
                    (h * (k / 2) + 7) / 8 < std::lround(h * lb.scale))
            << w << "x" << h;
      }
    }
}

// The documented bound (docs/design/inference.md "Image path"): a JPEG decoded at the reduced
// DCT scale (here 1/2) and letterboxed from there differs from full decode + letterbox by a few
// levels at most, under 1 level on average, on photo-like content; the placement is identical.
TEST(JpegTest, ReducedDecodeStaysWithinTheBoundAndMapsToTheFullImage) {
  cv::Mat m = Photo(900, 600, 5);
  cv::GaussianBlur(m, m, cv::Size(9, 9), 3);  // smoother, like a photo's content
  const std::string bytes = Jpeg(m);
  auto full = DecodeImageBytes(bytes, "t.jpg");
  auto reduced = DecodeImageBytes(bytes, "t.jpg", {320, 224});
  ASSERT_TRUE(full.ok() && reduced.ok());
  EXPECT_TRUE(reduced->reduced());
  EXPECT_EQ(reduced->width, 450);  // 4/8
  EXPECT_EQ(reduced->height, 300);
  EXPECT_EQ(reduced->source_width, 900);
  EXPECT_EQ(reduced->source_height, 600);
  std::vector<float> a(3 * 320 * 224), b(a.size());
  std::vector<uint8_t> scratch;
  const Letterbox la = LetterboxToTensor(full->View(), 320, 224, a.data(), &scratch);
  const Letterbox lr = LetterboxToTensor(reduced->View(), 900, 600, 320, 224, b.data(), &scratch);
  EXPECT_EQ(la.scale, lr.scale);
  EXPECT_EQ(la.pad_x, lr.pad_x);
  EXPECT_EQ(la.pad_y, lr.pad_y);
  EXPECT_EQ(lr.src_w, 900);
  double sum = 0, worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::abs(a[i] - b[i]) * 255;
    sum += d;
    worst = std::max(worst, d);
  }
  const double mean = sum / a.size();
  EXPECT_LT(mean, 1.0);
  EXPECT_LT(worst, 12.0);
  RecordProperty("mean_abs_levels", std::to_string(mean));
  std::printf("reduced vs full: mean |diff| %.3f levels, max %.0f\n", mean, worst);
}

TEST(JpegTest, CorruptAndTruncatedJpegsAreNamedErrors) {
  const std::string bytes = Jpeg(Photo(120, 80, 6));
  auto cut = DecodeImageBytes(bytes.substr(0, bytes.size() / 2), "cam/cut.jpg");
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(cut.status().message().find("cam/cut.jpg: cannot decode JPEG: Premature end"),
            std::string::npos)
      << cut.status().message();
  std::string bad = bytes;  // the frame header's precision byte: a fatal libjpeg error
  const size_t sof = bad.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  bad[sof + 4] = 3;
  auto r = DecodeImageBytes(bad, "cam/bad.jpg");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cam/bad.jpg: cannot decode"), std::string::npos)
      << r.status().message();
  // Garbage inside the entropy-coded data.
  std::string junk = bytes;
  for (size_t i = bytes.size() / 3; i < bytes.size() / 3 + 64; ++i) junk[i] = '\x13';
  auto j = DecodeImageBytes(junk, "cam/junk.jpg");
  if (!j.ok()) {
    EXPECT_NE(j.status().message().find("cam/junk.jpg"), std::string::npos);
  }
}

// APP1 Exif with IFD0 holding only Orientation (little-endian TIFF).
std::string WithOrientation(const std::string& jpeg, int orientation) {
  std::string tiff = std::string("II*\0\x08\0\0\0", 8) + std::string("\x01\0", 2) +
                     std::string("\x12\x01\x03\0\x01\0\0\0", 8) +
                     std::string(1, static_cast<char>(orientation)) + std::string(3, '\0') +
                     std::string(4, '\0');
  const std::string payload = std::string("Exif\0\0", 6) + tiff;
  const size_t len = payload.size() + 2;
  std::string app1 = "\xFF\xE1";
  app1 += static_cast<char>(len >> 8);
  app1 += static_cast<char>(len & 0xFF);
  return jpeg.substr(0, 2) + app1 + payload + jpeg.substr(2);
}

TEST(JpegTest, ExifOrientationGoesToTheGeneralDecoder) {
  const std::string plain = Jpeg(Photo(60, 40, 7));
  EXPECT_EQ(JpegExifOrientation(plain), 1);
  const std::string rotated = WithOrientation(plain, 6);
  EXPECT_EQ(JpegExifOrientation(rotated), 6);
  EXPECT_EQ(JpegExifOrientation(WithOrientation(plain, 1)), 1);
  auto img = DecodeImageBytes(rotated, "r.jpg", {32, 32});
  ASSERT_TRUE(img.ok()) << img.status().ToString();
  EXPECT_EQ(img->width, 40);  // rotated by 90 degrees as OpenCV does; never reduced
  EXPECT_EQ(img->height, 60);
  EXPECT_FALSE(img->reduced());
  std::vector<uint8_t> px;
  EXPECT_EQ(DecodeJpeg(rotated, "r.jpg", 0, 0, &px).status().code(), StatusCode::kUnimplemented);
}

}  // namespace
}  // namespace vqi::yolo
