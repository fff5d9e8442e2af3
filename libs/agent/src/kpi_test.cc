#include "vqi/agent/kpi.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace vqi::agent {
namespace {
namespace fs = std::filesystem;

TEST(KpiTest, MetricValuesSkipsOtherMetricsAndGarbage) {
  const std::string text =
      "{\"metric\": \"defect_rate\", \"value\": 0.5}\n"
      "not json defect_rate\n"
      "{\"metric\": \"latency\", \"value\": 9}\n"
      "{\"metric\": \"defect_rate\", \"value\": \"x\"}\n"
      "{\"metric\": \"defect_rate\", \"value\": 1.5}\n";
  EXPECT_EQ(MetricValues(text, "defect_rate"), (std::vector<double>{0.5, 1.5}));
  EXPECT_TRUE(MetricValues(text, "nothing").empty());
}

class KpiTrackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (fs::temp_directory_path() / "vqi-kpi-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    dir_ = t;
    fs::create_directories(dir_ + "/a");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Append(const std::string& comp, double v, const std::string& metric = "defect_rate") {
    fs::create_directories(dir_ + "/" + comp);
    std::ofstream(dir_ + "/" + comp + "/metrics.jsonl", std::ios::app)
        << "{\"metric\": \"" << metric << "\", \"value\": " << v << "}\n";
  }
  std::string dir_;
};

TEST_F(KpiTrackerTest, BeforeIsTheLastWindowAfterTheFirstWindow) {
  for (int i = 0; i < 10; ++i) Append("a", i);  // before: last 3 = 7 8 9
  KpiTracker k(dir_, 60);
  k.Begin("dep-1", {"defect_rate", 3});
  std::string id;
  EXPECT_FALSE(k.Poll(0, &id));
  Append("a", 100);
  Append("b", 200);              // a new component's file counts from its start
  EXPECT_FALSE(k.Poll(1, &id));  // not ended yet
  k.End("dep-1", true, 2);
  EXPECT_FALSE(k.Poll(3, &id));  // 2 of 3 samples, before the deadline
  Append("a", 300);
  Append("a", 999);  // past the window: ignored
  auto r = k.Poll(4, &id);
  ASSERT_TRUE(r);
  EXPECT_EQ(id, "dep-1");
  EXPECT_EQ(r->metric, "defect_rate");
  EXPECT_DOUBLE_EQ(r->before, 8);
  EXPECT_DOUBLE_EQ(r->after, 200);
  EXPECT_EQ(r->samples, 3);
  EXPECT_FALSE(k.active());
}

TEST_F(KpiTrackerTest, DeadlineReportsWhatThereIsAndFailureForgets) {
  Append("a", 1);
  KpiTracker k(dir_, 60);
  k.Begin("dep-2", {"defect_rate", 100});
  Append("a", 3);
  k.End("dep-2", true, 10);
  std::string id;
  EXPECT_FALSE(k.Poll(69, &id));
  auto r = k.Poll(70.5, &id);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->samples, 1);
  EXPECT_DOUBLE_EQ(r->before, 1);
  EXPECT_DOUBLE_EQ(r->after, 3);

  k.Begin("dep-3", {"defect_rate", 1});
  Append("a", 5);
  k.End("dep-3", false, 80);
  EXPECT_FALSE(k.active());
  EXPECT_FALSE(k.Poll(200, &id));
}

TEST_F(KpiTrackerTest, NothingBeforeTheUpdateReportsNothing) {
  KpiTracker k(dir_, 60);
  k.Begin("dep-5", {"defect_rate", 1});  // a new component: no value before it
  Append("a", 2);
  k.End("dep-5", true, 0);
  std::string id;
  EXPECT_FALSE(k.Poll(1, &id));
  EXPECT_FALSE(k.active());
}

TEST_F(KpiTrackerTest, NothingAfterTheUpdateReportsNothing) {
  Append("a", 1);
  KpiTracker k(dir_, 1);
  k.Begin("dep-4", {"defect_rate", 5});
  k.End("dep-4", true, 0);
  std::string id;
  EXPECT_FALSE(k.Poll(2, &id));
  EXPECT_FALSE(k.active());
}

}  // namespace
}  // namespace vqi::agent
