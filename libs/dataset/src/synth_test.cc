#include "vqi/dataset/synth.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace vqi::dataset {
namespace {

bool SameMat(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

TEST(SynthTest, SizeTypeAndDeterminism) {
  SynthOptions o;
  o.seed = 7;
  SynthImage a = SynthesizeTag(o, 3);
  SynthImage b = SynthesizeTag(o, 3);
  EXPECT_EQ(a.bgr.cols, 450);
  EXPECT_EQ(a.bgr.rows, 300);
  EXPECT_EQ(a.bgr.type(), CV_8UC3);
  EXPECT_TRUE(SameMat(a.bgr, b.bgr));
  EXPECT_EQ(a.boxes, b.boxes);
  SynthImage c = SynthesizeTag(o, 4);
  EXPECT_FALSE(SameMat(a.bgr, c.bgr));
  o.seed = 8;
  SynthImage d = SynthesizeTag(o, 3);
  EXPECT_FALSE(SameMat(a.bgr, d.bgr));
}

TEST(SynthTest, BoxesInsideImageAndDefectRateRoughlyHonoured) {
  SynthOptions o;
  o.width = 320;
  o.height = 200;
  o.defect_probability = 0.5;
  o.max_scratches = 3;
  int defective = 0;
  for (uint64_t i = 0; i < 60; ++i) {
    SynthImage s = SynthesizeTag(o, i);
    ASSERT_EQ(s.bgr.cols, 320);
    ASSERT_EQ(s.bgr.rows, 200);
    EXPECT_LE(s.boxes.size(), 3u);
    if (!s.boxes.empty()) ++defective;
    for (const Box& b : s.boxes) {
      EXPECT_EQ(b.class_id, 0);
      EXPECT_GE(b.x, 0);
      EXPECT_GE(b.y, 0);
      EXPECT_GT(b.w, 0);
      EXPECT_GT(b.h, 0);
      EXPECT_LE(b.x + b.w, 320);
      EXPECT_LE(b.y + b.h, 200);
    }
  }
  EXPECT_GT(defective, 15);
  EXPECT_LT(defective, 45);
  o.defect_probability = 0;
  for (uint64_t i = 0; i < 10; ++i) EXPECT_TRUE(SynthesizeTag(o, i).boxes.empty());
}

// Every pixel a scratch changed lies in some box, every box covers changed pixels, and the
// scratches are bright.
TEST(SynthTest, DrawScratchesBoxesAreExact) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    cv::Mat img(240, 360, CV_8UC3, cv::Scalar(70, 70, 70));
    const cv::Mat before = img.clone();
    std::mt19937_64 rng(seed);
    std::vector<Box> boxes = DrawScratches(img, rng, 3);
    ASSERT_FALSE(boxes.empty());
    cv::Mat diff;
    cv::absdiff(img, before, diff);
    cv::cvtColor(diff, diff, cv::COLOR_BGR2GRAY);
    cv::Mat covered = cv::Mat::zeros(img.size(), CV_8U);
    for (const Box& b : boxes) {
      const cv::Rect r(int(b.x), int(b.y), int(b.w), int(b.h));
      ASSERT_EQ(r & cv::Rect(0, 0, img.cols, img.rows), r);
      EXPECT_GT(cv::countNonZero(diff(r)), 0) << "box with nothing drawn, seed " << seed;
      covered(r).setTo(255);
    }
    cv::Mat outside;
    cv::bitwise_and(diff, ~covered, outside);
    EXPECT_EQ(cv::countNonZero(outside), 0) << "drawn pixels outside boxes, seed " << seed;
    double max_val = 0;
    cv::minMaxLoc(img, nullptr, &max_val);
    EXPECT_GT(max_val, 120) << "scratches should be bright";
  }
}

TEST(SynthTest, DrawScratchesDeterministicAndZeroCount) {
  cv::Mat a(100, 150, CV_8UC3, cv::Scalar(50, 50, 50)), b = a.clone(), c = a.clone();
  std::mt19937_64 r1(5), r2(5), r3(5);
  EXPECT_EQ(DrawScratches(a, r1, 2), DrawScratches(b, r2, 2));
  EXPECT_TRUE(SameMat(a, b));
  EXPECT_TRUE(DrawScratches(c, r3, 0).empty());
}

// min_contrast changes how bright the scratches are, not where they are: the same scratches
// (boxes within the full-contrast ones: they are measured on the pixels that changed, and a
// faint anti-aliased edge may round to nothing), every pixel at most as bright as with full
// contrast, and the faint ones reach down to the contrast asked for.
TEST(SynthTest, MinContrastMakesFainterScratchesInTheSameBoxes) {
  double faint_sum = 0, full_sum = 0, faintest_peak = 255;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const cv::Mat bg(240, 360, CV_8UC3, cv::Scalar(70, 70, 70));
    cv::Mat faint = bg.clone(), full = bg.clone();
    std::mt19937_64 r1(seed), r2(seed);
    const std::vector<Box> fb = DrawScratches(faint, r1, 1, 0.1),
                           cb = DrawScratches(full, r2, 1, 1.0);
    ASSERT_EQ(fb.size(), cb.size());
    for (size_t i = 0; i < fb.size(); ++i) {
      EXPECT_GE(fb[i].x, cb[i].x);
      EXPECT_GE(fb[i].y, cb[i].y);
      EXPECT_LE(fb[i].x + fb[i].w, cb[i].x + cb[i].w);
      EXPECT_LE(fb[i].y + fb[i].h, cb[i].y + cb[i].h);
      EXPECT_GT(fb[i].w * fb[i].h, 0.5 * cb[i].w * cb[i].h) << "seed " << seed;
    }
    cv::Mat over;
    cv::subtract(faint, full, over);  // saturates at 0 where faint <= full
    EXPECT_EQ(cv::countNonZero(over.reshape(1)), 0) << "seed " << seed;
    faint_sum += cv::sum(faint - bg)[0];
    full_sum += cv::sum(full - bg)[0];
    double peak = 0;
    cv::minMaxLoc(faint.reshape(1), nullptr, &peak);
    faintest_peak = std::min(faintest_peak, peak);
  }
  EXPECT_LT(faint_sum, 0.8 * full_sum);
  EXPECT_LT(faintest_peak, 70 + 0.5 * 180);  // below the default's weakest full-strength scratch
}

// Writes a few samples with their boxes for eyeballing when VQI_SYNTH_SAMPLES names a folder.
TEST(SynthTest, OptionalSamplesForInspection) {
  const char* dir = std::getenv("VQI_SYNTH_SAMPLES");
  if (dir == nullptr) GTEST_SKIP() << "set VQI_SYNTH_SAMPLES=<dir> to write sample PNGs";
  SynthOptions o;
  for (uint64_t i = 0; i < 6; ++i) {
    SynthImage s = SynthesizeTag(o, i);
    cv::imwrite(std::string(dir) + "/synth_" + std::to_string(i) + ".png", s.bgr);
    for (const Box& b : s.boxes)
      cv::rectangle(s.bgr, cv::Rect(int(b.x), int(b.y), int(b.w), int(b.h)), {0, 0, 255}, 1);
    ASSERT_TRUE(
        cv::imwrite(std::string(dir) + "/synth_" + std::to_string(i) + "_boxes.png", s.bgr));
  }
}

}  // namespace
}  // namespace vqi::dataset
