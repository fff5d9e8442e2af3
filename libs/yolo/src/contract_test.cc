// The contract's geometry and layout on hand-computed cases (moved from libs/infer's image_test
// and libs/train's LetterboxTest, which now both call this module).
#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/imgcodecs.hpp>

#include "vqi/yolo/decode.h"
#include "vqi/yolo/image.h"
#include "vqi/yolo/image_header.h"
#include "vqi/yolo/letterbox.h"

namespace vqi::yolo {
namespace {

ImageView ViewOf(const cv::Mat& m) { return {m.data, m.cols, m.rows, m.step}; }

TEST(LetterboxTest, WideImageIsCenteredWithGrayBars) {
  cv::Mat img(100, 200, CV_8UC3, cv::Scalar(255, 0, 0));  // pure blue (BGR)
  std::vector<float> t(3 * 64 * 64);
  std::vector<uint8_t> scratch;
  Letterbox lb = LetterboxToTensor(ViewOf(img), 64, 64, t.data(), &scratch);
  EXPECT_DOUBLE_EQ(lb.scale, 0.32);
  EXPECT_EQ(lb.pad_x, 0);
  EXPECT_EQ(lb.pad_y, 16);
  EXPECT_EQ(lb.src_w, 200);
  EXPECT_EQ(lb.src_h, 100);
  const int hw = 64 * 64;
  for (int c = 0; c < 3; ++c) EXPECT_FLOAT_EQ(t[c * hw + 0], 114.f / 255.f) << c;  // top bar
  EXPECT_FLOAT_EQ(t[63 * 64 + 10], 114.f / 255.f);                                 // bottom bar
  const int mid = 32 * 64 + 32;
  EXPECT_FLOAT_EQ(t[0 * hw + mid], 0.f);  // R
  EXPECT_FLOAT_EQ(t[1 * hw + mid], 0.f);  // G
  EXPECT_FLOAT_EQ(t[2 * hw + mid], 1.f);  // B
}

TEST(LetterboxTest, TallImageAndExactFit) {
  cv::Mat tall(90, 30, CV_8UC3, cv::Scalar(0, 0, 255));
  std::vector<float> t(3 * 32 * 32);
  std::vector<uint8_t> scratch;
  Letterbox lb = LetterboxToTensor(ViewOf(tall), 32, 32, t.data(), &scratch);
  EXPECT_NEAR(lb.scale, 32.0 / 90.0, 1e-12);
  EXPECT_EQ(lb.pad_y, 0);
  EXPECT_EQ(lb.pad_x, 10);  // nw = round(10.67) = 11, dw = 10.5, left = round(10.4) = 10
  cv::Mat exact(32, 32, CV_8UC3, cv::Scalar(10, 20, 30));
  lb = LetterboxToTensor(ViewOf(exact), 32, 32, t.data(), &scratch);
  EXPECT_EQ(lb.scale, 1.0);
  EXPECT_FLOAT_EQ(t[0], 30.f / 255.f);
}

// Was libs/train's LetterboxTest.UltralyticsGeometryAndInverse.
TEST(LetterboxTest, UltralyticsGeometryAndInverse) {
  cv::Mat img(300, 450, CV_8UC3, cv::Scalar(0, 0, 255));
  std::vector<float> chw(3 * 320 * 224);
  std::vector<uint8_t> scratch;
  Letterbox lb = LetterboxToTensor(ViewOf(img), 320, 224, chw.data(), &scratch);
  // r = min(224/300, 320/450) = 0.7111 -> 320x213, dh = 5.5: top round(5.4) = 5.
  EXPECT_NEAR(lb.scale, 320.0 / 450, 1e-9);
  EXPECT_EQ(lb.pad_x, 0);
  EXPECT_EQ(lb.pad_y, 5);
  const int hw = 320 * 224;
  for (int c = 0; c < 3; ++c) EXPECT_FLOAT_EQ(chw[c * hw], 114.f / 255.f);  // (0, 0) is gray
  EXPECT_FLOAT_EQ(chw[100 * 320 + 100], 1.0f);                              // R plane
  EXPECT_FLOAT_EQ(chw[2 * hw + 100 * 320 + 100], 0.0f);                     // B plane

  // One anchor, two classes: (cx, cy, w, h) = (160, 117, 64, 32) in input pixels.
  std::vector<float> o0 = {160, 117, 64, 32, 0.2f, 0.9f};
  auto d = DecodeOutput(o0.data(), 2, 1, lb, 0.25f).candidates;
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].class_id, 1);
  EXPECT_NEAR(d[0].x1, (128) / lb.scale, 1e-3);
  EXPECT_NEAR(d[0].y1, (101 - 5) / lb.scale, 1e-3);
  EXPECT_NEAR(d[0].x2, 192 / lb.scale, 1e-3);
  EXPECT_TRUE(DecodeOutput(o0.data(), 2, 1, lb, 0.95f).candidates.empty());
}

TEST(PixelLayoutTest, ValuesAreExactQuotients) {
  cv::Mat img(1, 256, CV_8UC3);
  for (int x = 0; x < 256; ++x) img.at<cv::Vec3b>(0, x) = cv::Vec3b(x, 255 - x, x);
  std::vector<float> t(3 * 256);
  BgrToTensor(ViewOf(img), t.data());
  for (int x = 0; x < 256; ++x) {
    EXPECT_EQ(t[x], static_cast<float>(x) / 255.0f);              // R
    EXPECT_EQ(t[256 + x], static_cast<float>(255 - x) / 255.0f);  // G
  }
}

TEST(DecodeOutputTest, MapsBoxesBackAndThresholds) {
  const int nc = 2;
  const int64_t n = 3;
  // anchor 0: cx 32 cy 32 w 16 h 8, class 1 at 0.9; anchor 1 below conf; anchor 2 off-image.
  std::vector<float> out = {32, 10, 60, 32,   10,   40,   16,   4,    40,
                            8,  4,  40, 0.1f, 0.1f, 0.2f, 0.9f, 0.2f, 0.8f};
  Letterbox lb{0.5, 0, 16, 128, 64};
  Decoded r = DecodeOutput(out.data(), nc, n, lb, 0.25f);
  const auto& d = r.candidates;
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(r.non_finite, 0);
  EXPECT_EQ(d[0].class_id, 1);
  EXPECT_FLOAT_EQ(d[0].score, 0.9f);
  EXPECT_FLOAT_EQ(d[0].x1, 48.f);
  EXPECT_FLOAT_EQ(d[0].x2, 80.f);
  EXPECT_FLOAT_EQ(d[0].y1, 24.f);
  EXPECT_FLOAT_EQ(d[0].y2, 40.f);
  EXPECT_FLOAT_EQ(d[1].x2, 128.f);  // clipped to the image
  EXPECT_FLOAT_EQ(d[1].y2, 64.f);
  EXPECT_TRUE(CheckFinite(r, n, "m.onnx").ok());
}

// Issue 16: a model emitting inf/NaN produced detections with null scores. Now such anchors are
// counted, never returned, and CheckFinite refuses the image naming the count.
TEST(DecodeOutputTest, NonFiniteOutputIsCountedAndRefused) {
  const float inf = INFINITY, nan = NAN;
  std::vector<float> out = {32, nan, 32, 10,   32,   10,  16,   4,    16,
                            8,  4,   8,  0.9f, 0.9f, inf, 0.1f, 0.1f, 0.1f};
  Decoded r = DecodeOutput(out.data(), 2, 3, Letterbox{1, 0, 0, 64, 64}, 0.25f);
  EXPECT_EQ(r.non_finite, 2);
  ASSERT_EQ(r.candidates.size(), 1u);
  EXPECT_FLOAT_EQ(r.candidates[0].score, 0.9f);
  Status st = CheckFinite(r, 3, "bad.onnx");
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("bad.onnx"), std::string::npos);
  EXPECT_NE(st.message().find("inf/NaN values at 2 of 3 anchors"), std::string::npos)
      << st.message();
}

TEST(DecodeImageTest, BadBytesAreAClearError) {
  auto r = DecodeImageBytes("definitely not an image", "bad.jpg");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("bad.jpg"), std::string::npos);
  EXPECT_FALSE(DecodeImageBytes("", "empty.png").ok());
  auto missing = DecodeImageFile("/nonexistent/x.png");
  EXPECT_FALSE(missing.ok());
  auto dir = DecodeImageFile(::testing::TempDir());
  EXPECT_NE(dir.status().message().find("is a directory"), std::string::npos);
}

TEST(DecodeImageTest, DecodesByContentAndRejectsTruncated) {
  cv::Mat img(20, 30, CV_8UC3, cv::Scalar(1, 2, 3));
  std::vector<uint8_t> png;
  ASSERT_TRUE(cv::imencode(".png", img, png));
  std::string bytes(png.begin(), png.end());
  auto ok = DecodeImageBytes(bytes, "named.jpg");  // wrong extension: content wins
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->width, 30);
  EXPECT_EQ(ok->height, 20);
  EXPECT_EQ(ok->View().Row(19)[0], 1);
  EXPECT_EQ(ok->View().Row(19)[2], 3);
  auto cut = DecodeImageBytes(bytes.substr(0, 40), "cut.png");
  EXPECT_FALSE(cut.ok());
}

TEST(ClassNamesTest, ParsesUltralyticsAndVqiMetadata) {
  auto a = ClassNamesFromMetadata({{"names", "{0: 'scratch', 1: \"dent's\", 2: 'a\\'b'}"}});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(*a, (std::vector<std::string>{"scratch", "dent's", "a'b"}));
  auto b = ClassNamesFromMetadata({{"vqi.class_names", "[\"x\",\"y\"]"}, {"names", "{}"}});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, (std::vector<std::string>{"x", "y"}));
  EXPECT_FALSE(ClassNamesFromMetadata({{"names", "{0: 'a', 2: 'c'}"}}).ok());
  EXPECT_FALSE(ClassNamesFromMetadata({{"names", "[garbage"}}).ok());
  EXPECT_FALSE(ClassNamesFromMetadata({}).ok());
}

// Issue 16: the size a header claims is checked before the decoder allocates for it.
TEST(ImageLimitTest, HeaderClaimingTooManyPixelsIsRefusedBeforeDecoding) {
  const std::string jpeg = std::string("\xFF\xD8\xFF\xC0\x00\x11\x08\x4E\x20\x4E\x20\x03", 12) +
                           std::string("\x01\x22\x00\x02\x11\x01\x03\x11\x01\xFF\xD9", 11);
  auto dims = ReadHeaderDims(SniffImageFormat(jpeg), jpeg);
  ASSERT_TRUE(dims.ok()) << dims.status().ToString();
  EXPECT_EQ(dims->width, 20000);
  auto img = DecodeImageBytes(jpeg, "huge.jpg");
  ASSERT_FALSE(img.ok());
  EXPECT_EQ(img.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(img.status().message(),
            "huge.jpg: jpeg header claims 20000x20000 = 400000000 pixels; the limit is 67108864 "
            "(8192x8192), refused before decoding");
  // At the limit: accepted by the check (8192x8192), one row more refused.
  EXPECT_TRUE(CheckImagePixels(8192, 8192, "f", "frame of").ok());
  EXPECT_EQ(CheckImagePixels(8192, 8193, "f", "frame of").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(CheckImagePixels(0, 5, "f", "frame of").code(), StatusCode::kInvalidArgument);
}

TEST(ImageLimitTest, UnknownFormatsAndDicomSignaturesNeverReachTheDecoder) {
  auto ppm = DecodeImageBytes("P6\n2 2\n255\n" + std::string(12, '\x7f'), "a.ppm");
  ASSERT_FALSE(ppm.ok());
  EXPECT_NE(ppm.status().message().find("a.ppm: cannot decode image: not a JPEG, PNG"),
            std::string::npos)
      << ppm.status().ToString();
  std::vector<uint8_t> buf;
  ASSERT_TRUE(cv::imencode(".jpg", cv::Mat(64, 64, CV_8UC3, cv::Scalar(9, 99, 199)), buf));
  std::string jpeg(buf.begin(), buf.end());
  ASSERT_TRUE(DecodeImageBytes(jpeg, "ok.jpg").ok());
  ASSERT_GT(jpeg.size(), 132u);
  jpeg.replace(128, 4, "DICM");
  auto r = DecodeImageBytes(jpeg, "d.jpg");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("DICOM signature at byte 128"), std::string::npos);
}

TEST(ImageLimitTest, FrameViewsAreChecked) {
  const uint8_t px[12] = {};
  EXPECT_TRUE(CheckImageView({px, 2, 2, 6}, "cam0").ok());
  EXPECT_EQ(CheckImageView({px, 20000, 20000, 60000}, "cam0").code(),
            StatusCode::kResourceExhausted);
  EXPECT_EQ(CheckImageView({nullptr, 2, 2, 6}, "cam0").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckImageView({px, 2, 2, 5}, "cam0").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vqi::yolo
