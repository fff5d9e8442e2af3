#include "vqi/eval/nms.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

namespace vqi::eval {
namespace {

Detection D(float x1, float y1, float x2, float y2, float score, int cls = 0) {
  return {x1, y1, x2, y2, score, cls};
}

TEST(IoUTest, KnownValues) {
  EXPECT_FLOAT_EQ(IoU(D(0, 0, 10, 10, 1), D(0, 0, 10, 10, 1)), 1.0f);
  EXPECT_FLOAT_EQ(IoU(D(0, 0, 10, 10, 1), D(0, 0, 10, 5, 1)), 0.5f);
  EXPECT_FLOAT_EQ(IoU(D(0, 0, 10, 10, 1), D(5, 0, 15, 10, 1)), 50.0f / 150.0f);
  EXPECT_FLOAT_EQ(IoU(D(0, 0, 10, 10, 1), D(10, 0, 20, 10, 1)), 0.0f);  // touching
  EXPECT_FLOAT_EQ(IoU(D(3, 3, 3, 3, 1), D(3, 3, 3, 3, 1)), 0.0f);       // empty union
}

TEST(NmsTest, EmptyInput) { EXPECT_TRUE(Nms({}, {}).empty()); }

TEST(NmsTest, KeepsHigherScoredOfOverlappingPair) {
  std::vector<Detection> c = {D(0, 0, 10, 10, 0.6f), D(1, 0, 11, 10, 0.9f)};
  EXPECT_EQ(NmsIndices(c, {0.5f, 300, false}), std::vector<int>({1}));
}

TEST(NmsTest, SuppressesOnlyAboveThreshold) {
  std::vector<Detection> c = {D(0, 0, 10, 10, 0.9f), D(0, 0, 10, 5, 0.8f)};  // IoU exactly 0.5
  EXPECT_EQ(NmsIndices(c, {0.5f, 300, false}).size(), 2u);
  EXPECT_EQ(NmsIndices(c, {0.49f, 300, false}).size(), 1u);
}

TEST(NmsTest, ClassAwareUnlessAgnostic) {
  std::vector<Detection> c = {D(0, 0, 10, 10, 0.9f, 0), D(0, 0, 10, 10, 0.8f, 1)};
  EXPECT_EQ(NmsIndices(c, {0.5f, 300, false}), std::vector<int>({0, 1}));
  EXPECT_EQ(NmsIndices(c, {0.5f, 300, true}), std::vector<int>({0}));
}

TEST(NmsTest, SuppressedBoxDoesNotSuppressOthers) {
  // A overlaps B, B overlaps C, A and C are disjoint: B goes, C stays.
  std::vector<Detection> c = {D(0, 0, 10, 10, 0.9f), D(3, 0, 13, 10, 0.8f), D(10, 0, 20, 10, 0.7f)};
  EXPECT_EQ(NmsIndices(c, {0.4f, 300, false}), std::vector<int>({0, 2}));
}

TEST(NmsTest, MaxDetectionsKeepsTopScores) {
  std::vector<Detection> c;
  for (int i = 0; i < 10; ++i) c.push_back(D(20.f * i, 0, 20.f * i + 10, 10, 0.1f * i));
  EXPECT_EQ(NmsIndices(c, {0.5f, 3, false}), std::vector<int>({9, 8, 7}));
  EXPECT_EQ(NmsIndices(c, {0.5f, 0, false}).size(), 10u);  // 0 = no limit
}

TEST(NmsTest, TiesKeepInputOrderAndNaNIsDropped) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<Detection> c = {D(0, 0, 10, 10, nan), D(0, 0, 10, 10, 0.5f), D(0, 0, 10, 10, 0.5f),
                              D(50, 50, 60, 60, 0.5f)};
  EXPECT_EQ(NmsIndices(c, {0.5f, 300, false}), std::vector<int>({1, 3}));
}

TEST(NmsTest, DegenerateBoxesSurvive) {
  std::vector<Detection> c = {D(5, 5, 5, 5, 0.9f), D(5, 5, 5, 5, 0.8f)};
  EXPECT_EQ(NmsIndices(c, {0.5f, 300, false}).size(), 2u);
}

TEST(NmsTest, FilterAndNmsAppliesConfidence) {
  std::vector<Detection> c = {D(0, 0, 10, 10, 0.2f), D(20, 0, 30, 10, 0.3f),
                              D(21, 0, 31, 10, 0.25f)};
  DetectOptions o;
  o.conf_threshold = 0.25f;
  o.iou_threshold = 0.7f;
  std::vector<Detection> out = FilterAndNms(c, o);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FLOAT_EQ(out[0].score, 0.3f);
  o.iou_threshold = 0.9f;
  EXPECT_EQ(FilterAndNms(c, o).size(), 2u);
}

// The textbook algorithm: per class, suppress every lower-scored overlapping box of each kept
// box; then merge the classes and take the best max_det.
std::vector<int> ReferenceNms(const std::vector<Detection>& c, float thr, int max_det,
                              bool agnostic) {
  std::vector<int> kept;
  std::vector<int> classes;
  for (const auto& d : c) classes.push_back(agnostic ? 0 : d.class_id);
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  for (int cls : classes) {
    std::vector<int> idx;
    for (int i = 0; i < int(c.size()); ++i)
      if (agnostic || c[i].class_id == cls) idx.push_back(i);
    std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return c[a].score > c[b].score; });
    std::vector<bool> dead(idx.size(), false);
    for (size_t i = 0; i < idx.size(); ++i) {
      if (dead[i]) continue;
      kept.push_back(idx[i]);
      for (size_t j = i + 1; j < idx.size(); ++j)
        if (IoU(c[idx[i]], c[idx[j]]) > thr) dead[j] = true;
    }
  }
  std::stable_sort(kept.begin(), kept.end(), [&](int a, int b) {
    return c[a].score > c[b].score || (c[a].score == c[b].score && a < b);
  });
  if (max_det > 0 && int(kept.size()) > max_det) kept.resize(max_det);
  return kept;
}

TEST(NmsTest, MatchesReferenceOnRandomBoxes) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> pos(0, 300), size(5, 80), score(0, 1);
    std::uniform_int_distribution<int> cls(0, 2);
    std::vector<Detection> c;
    for (int i = 0; i < 600; ++i) {
      float x = pos(rng), y = pos(rng);
      // Quantized scores make ties, which must resolve the same way.
      float s = seed % 2 ? std::round(score(rng) * 20) / 20 : score(rng);
      c.push_back(D(x, y, x + size(rng), y + size(rng), s, cls(rng)));
    }
    for (bool agnostic : {false, true}) {
      for (int max_det : {0, 50}) {
        for (float thr : {0.3f, 0.7f}) {
          EXPECT_EQ(NmsIndices(c, {thr, max_det, agnostic}),
                    ReferenceNms(c, thr, max_det, agnostic))
              << "seed " << seed << " agnostic " << agnostic << " max_det " << max_det;
        }
      }
    }
  }
}

}  // namespace
}  // namespace vqi::eval
