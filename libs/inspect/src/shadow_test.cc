// Shadow evaluation on the device (docs/design/shadow.md): box matching, the accumulator and
// its message, the `Shadow` configuration, and the Inspector running a candidate beside the live
// model on the same images.
#include "vqi/inspect/shadow.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "vqi/base/file.h"
#include "vqi/inspect/backend.h"
#include "vqi/inspect/inspector.h"
#include "vqi/onnx/export.h"
#include "vqi/onnx/weights.h"

namespace vqi::inspect {
namespace {

namespace fs = std::filesystem;

eval::Detection Box(float x1, float y1, float x2, float y2, float score, int cls = 0) {
  eval::Detection d;
  d.x1 = x1;
  d.y1 = y1;
  d.x2 = x2;
  d.y2 = y2;
  d.score = score;
  d.class_id = cls;
  return d;
}

TEST(ShadowMatch, SameClassAndIouAtLeastHalfEachBoxOnce) {
  EXPECT_FLOAT_EQ(BoxIou(Box(0, 0, 10, 10, 1), Box(0, 0, 10, 10, 1)), 1.0f);
  EXPECT_FLOAT_EQ(BoxIou(Box(0, 0, 10, 10, 1), Box(5, 0, 15, 10, 1)), 50.0f / 150.0f);
  EXPECT_FLOAT_EQ(BoxIou(Box(0, 0, 10, 10, 1), Box(20, 20, 30, 30, 1)), 0.0f);
  // IoU exactly 0.5 matches; 1/3 does not; another class never does.
  BoxMatch m = MatchDetections({Box(0, 0, 10, 10, 0.9f)}, {Box(0, 0, 10, 20, 0.7f)});
  EXPECT_EQ(m.matched, 1);
  EXPECT_NEAR(m.pair_shift, -0.2, 1e-6);
  EXPECT_EQ(MatchDetections({Box(0, 0, 10, 10, 0.9f)}, {Box(5, 0, 15, 10, 0.9f)}).matched, 0);
  EXPECT_EQ(MatchDetections({Box(0, 0, 10, 10, 0.9f, 0)}, {Box(0, 0, 10, 10, 0.9f, 1)}).matched, 0);
  // Two live boxes over one candidate box: the more confident one takes it.
  m = MatchDetections({Box(0, 0, 10, 10, 0.5f), Box(0, 0, 10, 11, 0.8f)},
                      {Box(0, 0, 10, 10, 0.6f)});
  EXPECT_EQ(m.live, 2);
  EXPECT_EQ(m.candidate, 1);
  EXPECT_EQ(m.matched, 1);
  EXPECT_NEAR(m.pair_shift, 0.6 - 0.8, 1e-6);
  // Each live box takes its best overlap.
  m = MatchDetections({Box(0, 0, 10, 10, 0.9f), Box(20, 0, 30, 10, 0.8f)},
                      {Box(21, 0, 31, 10, 0.8f), Box(1, 0, 11, 10, 0.9f)});
  EXPECT_EQ(m.matched, 2);
  EXPECT_EQ(MatchDetections({}, {}).matched, 0);
}

TEST(ShadowAccumulator, CountsRatiosMessageAndState) {
  ShadowAccumulator a(4);
  ShadowImage same;  // both pass, no boxes
  same.live_ms = 10;
  same.candidate_ms = 12;
  a.Add(same);
  ShadowImage differ;  // live fails with 2 boxes, candidate passes
  differ.live_fail = true;
  differ.live_best = 0.8f;
  differ.candidate_best = 0.2f;
  differ.boxes = {2, 0, 0, 0};
  differ.live_ms = 10;
  differ.candidate_ms = 14;
  a.Add(differ);
  ShadowImage error;  // the candidate failed
  error.candidate_error = true;
  error.live_ms = 10;
  a.Add(error);
  EXPECT_EQ(a.images(), 3);
  EXPECT_NEAR(a.VerdictAgreement(), 1.0 / 3, 1e-12);
  EXPECT_DOUBLE_EQ(a.BoxMatchRate(), 0.0);
  EXPECT_NEAR(a.ScoreShift(), -0.6 / 3, 1e-6);
  ShadowConfig cand;
  cand.model_component = "vqi.model.tags";
  cand.model_name = "tags";
  cand.model_version = "1.0.1";
  OrderedJson m = a.Message("cam-1", "vqi.inspect", "tags", "1.0.0", cand, "2026-12-06T10:00:00Z");
  EXPECT_EQ(m["schema"], "vqi.inspect.shadow/1");
  EXPECT_EQ(m["candidate"]["version"], "1.0.1");
  EXPECT_EQ(m["counts"]["images"], 3);
  EXPECT_EQ(m["counts"]["verdict_agree"], 1);
  EXPECT_EQ(m["counts"]["candidate_errors"], 1);
  EXPECT_EQ(m["counts"]["box_slots"], 2);
  EXPECT_DOUBLE_EQ(m["sums"]["candidate_ms"].get<double>(), 26.0);
  EXPECT_DOUBLE_EQ(m["latency_ms"]["candidate_mean"].get<double>(), 13.0);
  EXPECT_DOUBLE_EQ(m["latency_ms"]["live_mean"].get<double>(), 10.0);
  // The state restores every count.
  ShadowAccumulator b(4);
  ASSERT_TRUE(b.FromState(a.State(), "state").ok());
  EXPECT_EQ(b.State(), a.State());
  EXPECT_FALSE(b.FromState(Json::object(), "state").ok());
}

TEST(ShadowConfigTest, DirectoryOrAgentComponentVersion) {
  ShadowConfig c;
  std::vector<std::string> unknown;
  ASSERT_TRUE(ParseShadowConfig(Json::parse(R"({"ModelDirectory": "/m/cand", "ReportEvery": 5,
                                               "Extra": 1})"),
                                "cfg", "", "model.int8.onnx", &c, &unknown)
                  .ok());
  EXPECT_EQ(c.model_directory, "/m/cand");
  EXPECT_EQ(c.model_file, "model.int8.onnx");
  EXPECT_EQ(c.model_name, "cand");
  EXPECT_EQ(c.report_every, 5);
  EXPECT_EQ(c.every, 1);
  EXPECT_EQ(unknown, std::vector<std::string>{"Shadow.Extra"});
  ASSERT_TRUE(ParseShadowConfig(
                  Json::parse(R"({"ModelComponent": "vqi.model.tags", "ModelVersion": "1.0.1"})"),
                  "cfg", "/greengrass/v2", "model.onnx", &c, nullptr)
                  .ok());
  EXPECT_EQ(c.model_directory, "/greengrass/v2/packages/artifacts/vqi.model.tags/1.0.1");
  EXPECT_EQ(c.model_name, "vqi.model.tags");
  auto no_root = ParseShadowConfig(
      Json::parse(R"({"ModelComponent": "vqi.model.tags", "ModelVersion": "1.0.1"})"), "cfg", "",
      "model.onnx", &c, nullptr);
  EXPECT_NE(no_root.message().find("VQI_AGENT_ROOT is not set"), std::string::npos);
  EXPECT_NE(ParseShadowConfig(Json::parse(R"({"ModelComponent": "../x", "ModelVersion": "1"})"),
                              "cfg", "/r", "model.onnx", &c, nullptr)
                .message()
                .find("Shadow.ModelComponent"),
            std::string::npos);
  EXPECT_NE(ParseShadowConfig(Json::parse(R"({"ModelComponent": "a.b", "ModelVersion": "../1"})"),
                              "cfg", "/r", "model.onnx", &c, nullptr)
                .message()
                .find("Shadow.ModelVersion"),
            std::string::npos);
  EXPECT_NE(ParseShadowConfig(Json::parse(R"({"ModelDirectory": "/m", "ReportEvery": 0})"), "cfg",
                              "", "model.onnx", &c, nullptr)
                .message()
                .find("cfg: Shadow.ReportEvery: 0 is not an integer in [1, 100000]"),
            std::string::npos);
  // No candidate named: no shadow (not an error: live inspection goes on).
  ASSERT_TRUE(
      ParseShadowConfig(Json::parse(R"({"ReportEvery": 5})"), "cfg", "", "m", &c, nullptr).ok());
  EXPECT_FALSE(c.enabled());
  EXPECT_FALSE(
      ParseShadowConfig(Json::parse(R"({"ModelComponent": "a.b"})"), "cfg", "/r", "m", &c, nullptr)
          .ok());
  // Through the whole configuration.
  auto whole = ParseConfig(Json::parse(R"({"ImageDirectory": "/c", "ModelDirectory": "/m",
                                          "Shadow": {"ModelDirectory": "/s"}})"),
                           "cfg");
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_TRUE(whole->shadow.enabled());
  EXPECT_EQ(whole->shadow.report_every, 100);
}

class FakeSink : public ResultSink {
 public:
  Status Publish(const std::string& topic, const std::string&, const OrderedJson& r) override {
    (topic.size() > 7 && topic.substr(topic.size() - 7) == "/shadow" ? shadow : results)
        .push_back(r);
    topics.push_back(topic);
    return Status::Ok();
  }
  std::vector<OrderedJson> results, shadow;
  std::vector<std::string> topics;
};

std::string RandomModel(uint32_t seed) {
  model::ModelConfig cfg;
  cfg.input_w = 96;
  cfg.input_h = 64;
  auto ck = onnx::RandomCheckpoint(cfg, seed);
  EXPECT_TRUE(ck.ok());
  auto bytes = onnx::ExportOnnx(*ck, {});
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  return *bytes;
}

class ShadowInspectorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { RegisterInspectBackend(); }
  void SetUp() override {
    root_ = (fs::temp_directory_path() /
             ("shadow_test_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                .string();
    fs::remove_all(root_);
    for (const char* d : {"cam", "live", "same", "other", "work"})
      fs::create_directories(root_ + "/" + d);
    const std::string live = RandomModel(1);
    ASSERT_TRUE(WriteFileAtomic(root_ + "/live/model.onnx", live).ok());
    ASSERT_TRUE(WriteFileAtomic(root_ + "/same/model.onnx", live).ok());
    ASSERT_TRUE(WriteFileAtomic(root_ + "/other/model.onnx", RandomModel(7)).ok());
    config_.image_directory = root_ + "/cam";
    config_.model_directory = root_ + "/live";
    config_.work_directory = root_ + "/work";
    config_.thing_name = "t1";
    config_.model_name = "tags";
    config_.model_version = "1.0.0";
    config_.score_threshold = 0.001f;  // random weights score low
    config_.settle_seconds = 0;
    config_.backend = InspectBackendName();
    config_.shadow.model_component = "vqi.model.tags";
    config_.shadow.model_name = "tags";
    config_.shadow.model_version = "1.0.1";
    config_.shadow.report_every = 3;
    for (int i = 0; i < 7; ++i) Image("img" + std::to_string(i) + ".jpg", i);
  }
  void TearDown() override { fs::remove_all(root_); }
  void Image(const std::string& name, int seed) {
    cv::Mat m(120, 160, CV_8UC3, cv::Scalar(150, 150, 150));
    cv::line(m, {10 + 5 * seed, 10}, {140, 105 - 5 * seed}, cv::Scalar(250, 250, 250), 2);
    cv::circle(m, {40 + 9 * seed, 60}, 12, cv::Scalar(30, 30, 30), -1);
    std::vector<uchar> buf;
    cv::imencode(".jpg", m, buf);
    ASSERT_TRUE(WriteFileAtomic(root_ + "/cam/" + name, std::string(buf.begin(), buf.end())).ok());
  }
  // Runs the inspector over the 7 images; returns the last shadow message.
  OrderedJson RunWith(const std::string& candidate_dir, FakeSink& sink) {
    config_.shadow.model_directory = root_ + "/" + candidate_dir;
    auto in = Inspector::Create(config_, sink);
    EXPECT_TRUE(in.ok()) << in.status().ToString();
    if (!in.ok()) return {};
    std::atomic<bool> stop{false};
    Status s = (*in)->Run(stop, nullptr, 7);
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ((*in)->counters().shadow_reports, 3);  // after 3, after 6, and at stop (1)
    return sink.shadow.empty() ? OrderedJson() : sink.shadow.back();
  }
  std::string root_;
  InspectConfig config_;
};

TEST_F(ShadowInspectorTest, TheSameModelAgreesFully) {
  FakeSink sink;
  OrderedJson m = RunWith("same", sink);
  ASSERT_EQ(sink.results.size(), 7u);
  ASSERT_EQ(sink.shadow.size(), 3u);
  EXPECT_EQ(sink.shadow[0]["counts"]["images"], 3);
  EXPECT_EQ(sink.shadow[1]["counts"]["images"], 6);
  EXPECT_EQ(m["counts"]["images"], 7);
  EXPECT_EQ(m["schema"], "vqi.inspect.shadow/1");
  EXPECT_EQ(m["thing"], "t1");
  EXPECT_EQ(m["live"]["version"], "1.0.0");
  EXPECT_EQ(m["candidate"]["version"], "1.0.1");
  EXPECT_EQ(m["candidate"]["component"], "vqi.model.tags");
  EXPECT_DOUBLE_EQ(m["verdict_agreement"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(m["box_match"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(m["score_shift"].get<double>(), 0.0);
  EXPECT_GT(m["counts"]["boxes_live"].get<int64_t>(), 0) << "the test needs boxes to compare";
  EXPECT_EQ(m["counts"]["boxes_matched"], m["counts"]["boxes_live"]);
  EXPECT_GT(m["sums"]["candidate_ms"].get<double>(), 0);
  EXPECT_EQ(sink.topics[3], "vqi/v1/results/t1/vqi.inspect/shadow");
  for (const OrderedJson& r : sink.results) {
    ASSERT_TRUE(r.contains("shadow")) << r.dump();
    EXPECT_EQ(r["shadow"]["agree"], true);
    EXPECT_EQ(r["shadow"]["matched"], r["detections"].size());
    EXPECT_EQ(r["shadow"]["best_score"], r["best_score"]);
  }
}

TEST_F(ShadowInspectorTest, AnotherModelDisagreesAndCountsSurviveARestart) {
  FakeSink sink;
  OrderedJson m = RunWith("other", sink);
  const double box_match = m["box_match"].get<double>();
  std::printf(
      "random model 7 vs 1: verdict agreement %.3f, box match %.3f, score shift %.4f, "
      "latency ratio %.3f\n",
      m["verdict_agreement"].get<double>(), box_match, m["score_shift"].get<double>(),
      m["latency_ratio"].get<double>());
  EXPECT_LT(box_match, 0.9);
  EXPECT_NE(m["score_shift"].get<double>(), 0.0);
  // A restart with the same candidate continues the counts from the state file.
  for (int i = 7; i < 9; ++i) Image("img" + std::to_string(i) + ".jpg", i);
  FakeSink again;
  auto in = Inspector::Create(config_, again);
  ASSERT_TRUE(in.ok());
  std::atomic<bool> stop{false};
  ASSERT_TRUE((*in)->Run(stop, nullptr, 2).ok());
  ASSERT_EQ(again.shadow.size(), 1u);
  EXPECT_EQ(again.shadow[0]["counts"]["images"], 9);
}

TEST_F(ShadowInspectorTest, EveryNthImageOnlyWhenSampled) {
  FakeSink sink;
  config_.shadow.model_directory = root_ + "/same";
  config_.shadow.every = 3;  // images 1, 4, 7 of 7
  auto in = Inspector::Create(config_, sink);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  std::atomic<bool> stop{false};
  ASSERT_TRUE((*in)->Run(stop, nullptr, 7).ok());
  ASSERT_EQ(sink.results.size(), 7u);
  int with = 0;
  for (const OrderedJson& r : sink.results) with += r.contains("shadow");
  EXPECT_EQ(with, 3);
  EXPECT_TRUE(sink.results[0].contains("shadow"));
  EXPECT_FALSE(sink.results[1].contains("shadow"));
  ASSERT_EQ(sink.shadow.size(), 1u);  // ReportEvery 3 compared images
  EXPECT_EQ(sink.shadow[0]["counts"]["images"], 3);
}

TEST_F(ShadowInspectorTest, AMissingCandidateLeavesLiveInspectionAlone) {
  FakeSink sink;
  config_.shadow.model_directory = root_ + "/missing";
  auto in = Inspector::Create(config_, sink);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  std::atomic<bool> stop{false};
  ASSERT_TRUE((*in)->Run(stop, nullptr, 7).ok());
  EXPECT_EQ(sink.results.size(), 7u);
  EXPECT_TRUE(sink.shadow.empty());
  EXPECT_FALSE(sink.results[0].contains("shadow"));
}

}  // namespace
}  // namespace vqi::inspect
