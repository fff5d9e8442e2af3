#include "data.h"

#include <gtest/gtest.h>

namespace vqi::train {
namespace {

std::vector<LabeledImage> Pool() {
  std::vector<LabeledImage> pool;
  for (int i = 0; i < 4; ++i) {
    LabeledImage im;
    im.name = "img" + std::to_string(i);
    im.bgr = cv::Mat(300, 450, CV_8UC3, cv::Scalar(40 * i, 80, 120));
    im.boxes = {{0, 100.0f + i, 50, 80, 60}, {0, 300, 200, 40, 30}};
    pool.push_back(im);
  }
  return pool;
}

TEST(AugmentTest, DeterministicAndBoxesInsideTheInput) {
  auto pool = Pool();
  AugmentOptions o;
  o.scratch = 0.5;
  for (int i = 0; i < 4; ++i) {
    auto a = AugmentOne(pool, i, true, o, 320, 224, 99);
    auto b = AugmentOne(pool, i, true, o, 320, 224, 99);
    ASSERT_EQ(a.pixels.size(), 3u * 320 * 224);
    EXPECT_EQ(a.pixels, b.pixels);
    ASSERT_EQ(a.boxes.size(), b.boxes.size());
    for (const auto& bx : a.boxes) {
      EXPECT_GE(bx[1], 0);
      EXPECT_GE(bx[2], 0);
      EXPECT_LE(bx[3], 320);
      EXPECT_LE(bx[4], 224);
      EXPECT_GT(bx[3] - bx[1], 2);
      EXPECT_GT(bx[4] - bx[2], 2);
    }
  }
  EXPECT_NE(AugmentOne(pool, 0, true, o, 320, 224, 1).pixels,
            AugmentOne(pool, 0, true, o, 320, 224, 2).pixels);
}

TEST(AugmentTest, WithoutRandomnessTheBoxesAreScaledOnly) {
  auto pool = Pool();
  AugmentOptions o;
  o.mosaic = 0, o.scratch = 0, o.fliplr = 0, o.flipud = 0, o.hsv_h = o.hsv_s = o.hsv_v = 0;
  o.translate = 0, o.scale = 0;
  auto a = AugmentOne(pool, 0, false, o, 480, 320, 5);
  ASSERT_EQ(a.boxes.size(), 2u);
  // 450x300 -> 480x320: scale 16/15, no padding.
  EXPECT_NEAR(a.boxes[0][1], 100 * 16.0 / 15, 0.6);
  EXPECT_NEAR(a.boxes[0][3], 180 * 16.0 / 15, 0.6);
  EXPECT_NEAR(a.boxes[1][4], 230 * 16.0 / 15, 0.6);
}

TEST(AugmentTest, HwcLayoutHoldsTheSamePixelsAsChw) {
  auto pool = Pool();
  AugmentOptions o;
  AugmentTimes t;
  auto chw = AugmentOne(pool, 1, true, o, 320, 224, 7, &t, Layout::kChw);
  auto hwc = AugmentOne(pool, 1, true, o, 320, 224, 7, nullptr, Layout::kHwc);
  ASSERT_EQ(chw.pixels.size(), hwc.pixels.size());
  EXPECT_EQ(chw.boxes, hwc.boxes);
  const size_t plane = 320 * 224;
  for (size_t i = 0; i < plane; i += 97)
    for (size_t c = 0; c < 3; ++c)
      ASSERT_EQ(chw.pixels[c * plane + i], hwc.pixels[i * 3 + c]) << "pixel " << i << " ch " << c;
  EXPECT_GT(t.affine + t.hsv + t.to_float, 0.0);  // the stages were timed
}

TEST(AugmentTest, ScaledPoolGivesTheSameImages) {
  auto pool = Pool();
  AugmentOptions o;  // scratches with p 0.5: both paths are taken
  auto scaled = ScalePool(pool, 320, 224);
  ASSERT_EQ(scaled.size(), pool.size());
  for (int i = 0; i < static_cast<int>(pool.size()); ++i)
    for (uint64_t seed : {1u, 2u, 3u, 4u}) {
      auto a = AugmentOne(pool, i, seed % 2 == 0, o, 320, 224, seed);
      auto b =
          AugmentOne(pool, i, seed % 2 == 0, o, 320, 224, seed, nullptr, Layout::kChw, &scaled);
      EXPECT_EQ(a.pixels, b.pixels) << i << " seed " << seed;
      EXPECT_EQ(a.boxes, b.boxes) << i << " seed " << seed;
    }
}

// LetterboxTest.UltralyticsGeometryAndInverse moved to libs/yolo/src/contract_test.cc with the
// letterbox itself.

}  // namespace
}  // namespace vqi::train
