#include "vqi/infer/image.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

namespace vqi::infer {
namespace {

TEST(LetterboxTest, WideImageIsCenteredWithGrayBars) {
  cv::Mat img(100, 200, CV_8UC3, cv::Scalar(255, 0, 0));  // pure blue (BGR)
  std::vector<float> t(3 * 64 * 64);
  cv::Mat scratch;
  Letterbox lb = LetterboxToTensor(img, 64, 64, t.data(), &scratch);
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
  cv::Mat scratch;
  Letterbox lb = LetterboxToTensor(tall, 32, 32, t.data(), &scratch);
  EXPECT_NEAR(lb.scale, 32.0 / 90.0, 1e-12);
  EXPECT_EQ(lb.pad_y, 0);
  EXPECT_EQ(lb.pad_x, 10);  // nw = round(10.67) = 11, dw = 10.5, left = round(10.4) = 10
  cv::Mat exact(32, 32, CV_8UC3, cv::Scalar(10, 20, 30));
  lb = LetterboxToTensor(exact, 32, 32, t.data(), &scratch);
  EXPECT_EQ(lb.scale, 1.0);
  EXPECT_FLOAT_EQ(t[0], 30.f / 255.f);
}

TEST(DecodeOutputTest, MapsBoxesBackAndThresholds) {
  const int nc = 2;
  const int64_t n = 3;
  // anchor 0: cx 32 cy 32 w 16 h 8, class 1 at 0.9; anchor 1 below conf; anchor 2 off-image.
  std::vector<float> out = {32, 10, 60,  32, 10, 40,  16, 4, 40,  8, 4, 40,
                            0.1f, 0.1f, 0.2f, 0.9f, 0.2f, 0.8f};
  Letterbox lb{0.5, 0, 16, 128, 64};
  auto d = DecodeOutput(out.data(), nc, n, lb, 0.25f);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].class_id, 1);
  EXPECT_FLOAT_EQ(d[0].score, 0.9f);
  EXPECT_FLOAT_EQ(d[0].x1, 48.f);
  EXPECT_FLOAT_EQ(d[0].x2, 80.f);
  EXPECT_FLOAT_EQ(d[0].y1, 24.f);
  EXPECT_FLOAT_EQ(d[0].y2, 40.f);
  EXPECT_FLOAT_EQ(d[1].x2, 128.f);  // clipped to the image
  EXPECT_FLOAT_EQ(d[1].y2, 64.f);
}

TEST(DecodeImageTest, BadBytesAreAClearError) {
  auto r = DecodeImageBytes("definitely not an image", "bad.jpg");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("bad.jpg"), std::string::npos);
  EXPECT_FALSE(DecodeImageBytes("", "empty.png").ok());
  auto missing = DecodeImageFile("/nonexistent/x.png");
  EXPECT_FALSE(missing.ok());
}

TEST(DecodeImageTest, DecodesByContentAndRejectsTruncated) {
  cv::Mat img(20, 30, CV_8UC3, cv::Scalar(1, 2, 3));
  std::vector<uint8_t> png;
  ASSERT_TRUE(cv::imencode(".png", img, png));
  std::string bytes(png.begin(), png.end());
  auto ok = DecodeImageBytes(bytes, "named.jpg");  // wrong extension: content wins
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->cols, 30);
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

}  // namespace
}  // namespace vqi::infer
