#include "vqi/inspect/drift.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <opencv2/core.hpp>
#include <random>

#include "vqi/base/system.h"
#include "vqi/yolo/image.h"

namespace vqi::inspect {
namespace {

namespace fs = std::filesystem;

eval::ImageView ViewOf(const cv::Mat& m) {
  return {m.data, m.cols, m.rows, static_cast<size_t>(m.step)};
}

// The metal-tag photos (../shared/datasets/metal-tags), else synthetic plates: gray with noise,
// sized like the real ones. `group` gets each image's capture ordinal: the four crops of one
// photo (left/right, top/bottom: lit differently) belong together, as libs/dataset's split keeps
// them, so the two halves compared below are two samples of one distribution.
std::vector<cv::Mat> Images(std::string* source, std::vector<int>* group) {
  std::vector<cv::Mat> out;
  group->clear();
  const std::string shared = SharedDir();
  const fs::path dir = fs::path(shared) / "datasets" / "metal-tags" / "images";
  if (!shared.empty() && fs::is_directory(dir)) {
    std::vector<std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(dir))
      if (e.is_regular_file()) files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    std::map<std::string, int> captures;
    for (const std::string& f : files) {
      auto img = yolo::DecodeImageFile(f);
      if (!img.ok()) continue;
      cv::Mat m(img->height, img->width, CV_8UC3, img->data.get(), img->stride);
      out.push_back(m.clone());
      const std::string name = fs::path(f).filename().string();
      const std::string capture = name.substr(0, name.find("-cropped"));
      group->push_back(captures.emplace(capture, static_cast<int>(captures.size())).first->second);
    }
    *source = dir.string() + " (" + std::to_string(out.size()) + " images, " +
              std::to_string(captures.size()) + " captures)";
    if (out.size() >= 60) return out;
    out.clear();
    group->clear();
  }
  std::mt19937_64 rng(7);
  for (int i = 0; i < 160; ++i) {
    cv::Mat m(300, 450, CV_8UC3);
    const double base = 120 + static_cast<double>(rng() % 60);
    cv::randn(m, cv::Scalar::all(base), cv::Scalar::all(18));
    out.push_back(m);
    group->push_back(i);
  }
  *source = "160 synthetic plates (no ../shared/datasets/metal-tags)";
  return out;
}

TEST(DriftTest, DarkenedImagesRaiseTheAlertTheTrainingDistributionDoesNot) {
  std::string source;
  std::vector<int> group;
  const std::vector<cv::Mat> images = Images(&source, &group);
  std::vector<FeatureRow> train, held_out, darkened;
  for (size_t i = 0; i < images.size(); ++i) {
    FeatureRow row = ImageFeatures(ViewOf(images[i]));
    if (group[i] % 2 == 0) {  // every other capture trains, the others come from the device
      train.push_back(row);
    } else {
      held_out.push_back(row);
      cv::Mat dark;
      images[i].convertTo(dark, -1, 0.5, 0);  // half the light
      darkened.push_back(ImageFeatures(ViewOf(dark)));
    }
  }
  auto stats = ComputeTrainingStats(train);
  ASSERT_TRUE(stats.ok());
  // Round trip through the JSON a model component would carry.
  auto loaded = TrainingStats::FromJson(stats->ToJson(), "stats.json");
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->features.size(), 4u);  // inputs only: no model ran

  double dark_brightness = 0;
  auto run = [&](const std::vector<FeatureRow>& rows, const TrainingStats& s) {
    DriftMonitor m(s, 200, 40, 0.001);
    std::optional<DriftReport> last;
    for (const FeatureRow& r : rows) last = m.Add(r);
    dark_brightness = m.Scores()[kBrightness];
    return last;
  };
  auto same = run(train, *loaded);  // the training images themselves
  ASSERT_TRUE(same.has_value()) << source;
  EXPECT_FALSE(same->alert) << source << ": score " << same->score << " on " << same->feature;
  EXPECT_LT(same->score, 0.5) << source;
  auto other = run(held_out, *loaded);  // the other images of the same distribution
  ASSERT_TRUE(other.has_value());
  EXPECT_FALSE(other->alert) << source << ": score " << other->score << " on " << other->feature;
  auto dark = run(darkened, *loaded);
  ASSERT_TRUE(dark.has_value());
  EXPECT_TRUE(dark->alert) << source << ": score " << dark->score;
  EXPECT_GT(dark_brightness, 2.0) << source;  // contrast halves too and may score higher
  EXPECT_GT(dark->score, 2.0) << source;
  std::printf("%s: drift score training %.3f, held-out %.3f (%s), darkened %.3f (%s)\n",
              source.c_str(), same->score, other->score, other->feature.c_str(), dark->score,
              dark->feature.c_str());
}

TEST(DriftTest, OutputFeaturesCompareWhenTheStatisticsHoldThem) {
  std::mt19937_64 rng(3);
  auto row = [&](double score_mean, int boxes) {
    FeatureRow r;
    r.v = {128, 30, 450, 300, score_mean + (rng() % 100) / 1000.0, static_cast<double>(boxes)};
    r.has_outputs = true;
    return r;
  };
  std::vector<FeatureRow> train;
  for (int i = 0; i < 200; ++i) train.push_back(row(0.7, i % 3));
  auto stats = ComputeTrainingStats(train);
  ASSERT_TRUE(stats.ok());
  ASSERT_EQ(stats->features.size(), 6u);
  DriftMonitor same(*stats, 100, 50, 0.001), shifted(*stats, 100, 50, 0.001);
  std::optional<DriftReport> a, b;
  for (int i = 0; i < 100; ++i) {
    a = same.Add(row(0.7, i % 3));
    b = shifted.Add(row(0.3, 0));  // the model became unsure and finds nothing
  }
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(a->alert) << a->score << " " << a->feature;
  EXPECT_TRUE(b->alert);
  EXPECT_TRUE(b->feature == "best_score" || b->feature == "box_count") << b->feature;
}

TEST(DriftTest, NoReportBeforeTheMinimumWindow) {
  std::vector<FeatureRow> train(10);
  auto stats = ComputeTrainingStats(train);
  ASSERT_TRUE(stats.ok());
  DriftMonitor m(*stats, 20, 5, 0.001);
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(m.Add(FeatureRow{}).has_value());
  auto r = m.Add(FeatureRow{});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->window, 5);
  EXPECT_DOUBLE_EQ(r->score, 0);  // constant features, equal on both sides
}

TEST(DriftTest, KsStatisticAgainstKnownValues) {
  std::vector<double> uniform;
  for (int i = 0; i <= 100; ++i) uniform.push_back(i / 100.0);
  EXPECT_NEAR(KsStatistic({0.25, 0.5, 0.75, 1.0}, uniform), 0.25, 1e-9);
  EXPECT_NEAR(KsStatistic({2.0, 3.0}, uniform), 1.0, 1e-9);  // entirely above
  // c(0.05) = 1.358: the textbook value.
  EXPECT_NEAR(KsCriticalValue(0.05, 100, 100), 1.3581 * std::sqrt(200.0 / 10000), 1e-3);
}

TEST(DriftTest, StatsJsonIsChecked) {
  EXPECT_FALSE(TrainingStats::FromJson(Json::object(), "s.json").ok());
  Json j = {{"schema", "vqi.inspect.stats/1"},
            {"features", {{"brightness", {{"count", 3}, {"percentiles", {1, 2}}}}}}};
  auto r = TrainingStats::FromJson(j, "s.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("features.brightness"), std::string::npos);
  EXPECT_FALSE(ComputeTrainingStats({}).ok());
  // Wrong types are errors, not exceptions (the file travels in a model component).
  EXPECT_FALSE(TrainingStats::FromJson(Json{{"schema", 1}}, "s.json").ok());
  Json p = Json::array();
  for (int i = 0; i <= 100; ++i) p.push_back(i);
  j["features"]["brightness"] = {{"count", 3}, {"mean", "dark"}, {"percentiles", p}};
  r = TrainingStats::FromJson(j, "s.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("features.brightness.mean: not a number"), std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace vqi::inspect
