// Grouped fold assignment, fold parts, spreads and the smoothed checkpoint choice.
#include "vqi/train/cv.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "smoothed.h"

namespace vqi::train {
namespace {

// `captures` captures of 1..max_size images each (sizes from a seeded generator).
std::vector<dataset::Sample> Samples(int captures, int max_size, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<dataset::Sample> out;
  for (int c = 0; c < captures; ++c) {
    const int n = 1 + static_cast<int>(rng() % static_cast<uint64_t>(max_size));
    for (int i = 0; i < n; ++i) {
      dataset::Sample s;
      s.capture_id = "capture" + std::to_string(c);
      s.image_id = s.capture_id + "-" + std::to_string(i);
      s.name = s.image_id + ".jpg";
      out.push_back(s);
    }
  }
  return out;
}

TEST(CvFoldsTest, CapturesStayTogetherAndFoldsAreBalanced) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const int folds = 2 + static_cast<int>(seed % 5);
    const auto samples =
        Samples(10 + static_cast<int>(seed) * 3, 1 + static_cast<int>(seed % 8), seed);
    auto fold = AssignFolds(samples, folds, seed);
    ASSERT_TRUE(fold.ok()) << fold.status().ToString();
    ASSERT_EQ(fold->size(), samples.size());
    std::map<std::string, std::set<int>> folds_of_capture;
    std::map<std::string, int> capture_size;
    std::vector<int> size(static_cast<size_t>(folds), 0);
    for (size_t i = 0; i < samples.size(); ++i) {
      ASSERT_GE((*fold)[i], 0);
      ASSERT_LT((*fold)[i], folds);
      folds_of_capture[samples[i].capture_id].insert((*fold)[i]);
      ++capture_size[samples[i].capture_id];
      ++size[static_cast<size_t>((*fold)[i])];
    }
    for (const auto& [capture, f] : folds_of_capture) EXPECT_EQ(f.size(), 1u) << capture;
    int largest = 0;
    for (const auto& [capture, n] : capture_size) largest = std::max(largest, n);
    const auto [lo, hi] = std::minmax_element(size.begin(), size.end());
    EXPECT_GT(*lo, 0) << "seed " << seed;
    EXPECT_LE(*hi - *lo, largest) << "seed " << seed;
  }
}

TEST(CvFoldsTest, DeterministicForASeed) {
  const auto samples = Samples(40, 6, 7);
  auto a = AssignFolds(samples, 5, 42), b = AssignFolds(samples, 5, 42),
       c = AssignFolds(samples, 5, 43);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_NE(*a, *c);  // 40 captures in 5 folds: another seed gives another assignment
  // The input order does not matter: the same capture lands in the same fold.
  auto reversed = samples;
  std::reverse(reversed.begin(), reversed.end());
  auto r = AssignFolds(reversed, 5, 42);
  ASSERT_TRUE(r.ok());
  for (size_t i = 0; i < samples.size(); ++i) EXPECT_EQ((*a)[i], (*r)[samples.size() - 1 - i]);
}

TEST(CvFoldsTest, EveryImageHeldOutExactlyOnceAndPartsAreDisjoint) {
  const auto samples = Samples(30, 5, 3);
  const int folds = 5;
  auto fold = AssignFolds(samples, folds, 1);
  ASSERT_TRUE(fold.ok());
  std::map<std::string, int> held_out, fold_of;
  for (size_t i = 0; i < samples.size(); ++i) fold_of[samples[i].image_id] = (*fold)[i];
  for (int k = 0; k < folds; ++k) {
    FoldParts p = MakeFoldParts(samples, *fold, k, 0.2, 1);
    EXPECT_EQ(p.train.size() + p.val.size() + p.test.size(), samples.size());
    EXPECT_FALSE(p.train.empty());
    EXPECT_FALSE(p.val.empty());
    std::map<std::string, std::string> part_of_capture;
    std::set<std::string> ids;
    for (auto [name, part] :
         {std::pair{"train", &p.train}, std::pair{"val", &p.val}, std::pair{"test", &p.test}}) {
      for (const auto& s : *part) {
        EXPECT_TRUE(ids.insert(s.image_id).second) << s.image_id << " in two parts";
        auto [it, fresh] = part_of_capture.emplace(s.capture_id, name);
        EXPECT_EQ(it->second, name) << s.capture_id << " split across parts";
      }
    }
    for (const auto& s : p.test) {
      EXPECT_EQ(fold_of[s.image_id], k) << s.image_id;
      ++held_out[s.image_id];
    }
    // About a fifth of the training folds' images validate (within one capture).
    const double rest = static_cast<double>(p.train.size() + p.val.size());
    EXPECT_NEAR(static_cast<double>(p.val.size()), 0.2 * rest, 5.0);
    EXPECT_TRUE(MakeFoldParts(samples, *fold, k, 0.0, 1).val.empty());
  }
  EXPECT_EQ(held_out.size(), samples.size());
  for (const auto& [id, n] : held_out) EXPECT_EQ(n, 1) << id;
}

TEST(CvFoldsTest, BadInputIsRefusedWithTheReason) {
  const auto samples = Samples(4, 3, 0);
  auto one = AssignFolds(samples, 1, 0);
  ASSERT_FALSE(one.ok());
  EXPECT_NE(one.status().message().find("[2, "), std::string::npos) << one.status().ToString();
  auto many = AssignFolds(samples, 5, 0);
  ASSERT_FALSE(many.ok());
  EXPECT_NE(many.status().message().find("more than the 4 captures"), std::string::npos)
      << many.status().ToString();
  auto none = AssignFolds({}, 5, 0);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("no labelled images"), std::string::npos);
  EXPECT_TRUE(AssignFolds(samples, 4, 0).ok());
}

TEST(CvSpreadTest, MeanSampleStdMinMax) {
  Spread s = SpreadOf({0.5, 0.7, 0.6, 0.8, 0.4});
  EXPECT_NEAR(s.mean, 0.6, 1e-12);
  EXPECT_NEAR(s.std, std::sqrt(0.1 / 4), 1e-12);  // squared deviations sum to 0.1
  EXPECT_DOUBLE_EQ(s.min, 0.4);
  EXPECT_DOUBLE_EQ(s.max, 0.8);
  Spread one = SpreadOf({0.3});
  EXPECT_EQ(one.std, 0);
  EXPECT_EQ(one.mean, 0.3);
}

TEST(SmoothedBestTest, PrefersAGoodStretchOverALonePeak) {
  SmoothedBest s;
  // Each Add returns whether the mean of the last three values is the best so far (ties: later).
  EXPECT_TRUE(s.Add(0.1));    // 0.1
  EXPECT_TRUE(s.Add(0.2));    // 0.15
  EXPECT_TRUE(s.Add(0.6));    // 0.3
  EXPECT_TRUE(s.Add(0.2));    // 0.333
  EXPECT_FALSE(s.Add(0.1));   // 0.3
  EXPECT_FALSE(s.Add(0.3));   // 0.2
  EXPECT_FALSE(s.Add(0.55));  // 0.317
  EXPECT_TRUE(s.Add(0.5));    // 0.45
  EXPECT_TRUE(s.Add(0.5));    // 0.517
  EXPECT_FALSE(s.Add(0.45));  // 0.483
  // A lone peak after a stretch does not beat the stretch; best-of-one would take it.
  SmoothedBest t;
  for (double f : {0.5, 0.5, 0.5}) t.Add(f);
  EXPECT_FALSE(t.Add(0.2));
  EXPECT_FALSE(t.Add(0.2));
  EXPECT_FALSE(t.Add(0.9));  // (0.2 + 0.2 + 0.9) / 3 = 0.433 < 0.5
}

TEST(SmoothedBestTest, ReplayRebuildsTheHistoryFromTheMetricsLog) {
  const std::string path = testing::TempDir() + "/smoothed_metrics.jsonl";
  {
    std::ofstream f(path);
    f << "{\"epoch\":1,\"box\":2}\n"                       // not validated
      << "{\"epoch\":2,\"map50\":0.5,\"map50_95\":0.5}\n"  // fitness 0.5
      << "not json\n"
      << "{\"epoch\":3,\"map50\":0.9,\"map50_95\":0.9}\n";  // fitness 0.9 -> mean 0.7
  }
  SmoothedBest replayed, fresh;
  replayed.Replay(path);
  fresh.Add(0.5);
  fresh.Add(0.9);
  // Next value 0.6: mean of (0.5, 0.9, 0.6) = 0.6667 < 0.7 for both.
  EXPECT_EQ(replayed.Add(0.6), fresh.Add(0.6));
  EXPECT_EQ(replayed.Add(0.9), fresh.Add(0.9));  // (0.9 0.6 0.9) = 0.8 > 0.7
  std::remove(path.c_str());
  SmoothedBest missing;
  missing.Replay(path);  // no log: an empty history
  EXPECT_TRUE(missing.Add(0.0));
}

}  // namespace
}  // namespace vqi::train
