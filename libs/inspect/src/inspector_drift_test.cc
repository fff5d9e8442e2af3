// The drift monitor inside the Inspector, the way a model component ships it: statistics in
// <ModelDirectory>/stats.json turn it on without any Drift key; the alert's state changes are
// published once each on .../drift; a model update that brings new statistics reloads them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "vqi/base/file.h"
#include "vqi/inspect/backend.h"
#include "vqi/inspect/inspector.h"
#include "vqi/inspect/stats.h"
#include "vqi/onnx/export.h"
#include "vqi/onnx/weights.h"

namespace vqi::inspect {
namespace {

namespace fs = std::filesystem;

struct Published {
  std::string topic, id;
  OrderedJson json;
};

class RecordingSink : public ResultSink {
 public:
  Status Publish(const std::string& topic, const std::string& id, const OrderedJson& j) override {
    if (deny_drift && topic.size() > 6 && topic.substr(topic.size() - 6) == "/drift")
      return PermissionDenied("not granted: " + topic);
    all.push_back({topic, id, j});
    return Status::Ok();
  }
  bool deny_drift = false;
  std::vector<Published> Drift() const {
    std::vector<Published> out;
    for (const Published& p : all)
      if (p.json.value("schema", "") == kDriftSchema) out.push_back(p);
    return out;
  }
  std::vector<Published> all;
};

class InspectorDriftTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { RegisterInspectBackend(); }
  void SetUp() override {
    root_ =
        (fs::temp_directory_path() / ("inspector_drift_" + std::to_string(::getpid()))).string();
    fs::remove_all(root_);
    for (const char* d : {"cam", "model", "work", "train", "dark"})
      fs::create_directories(root_ + "/" + d);
    model::ModelConfig cfg;
    cfg.input_w = 96;
    cfg.input_h = 64;
    auto ck = onnx::RandomCheckpoint(cfg, 1);
    ASSERT_TRUE(ck.ok());
    auto bytes = onnx::ExportOnnx(*ck, {});
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    ASSERT_TRUE(WriteFileAtomic(root_ + "/model/model.onnx", *bytes).ok());
    config_.image_directory = root_ + "/cam";
    config_.model_directory = root_ + "/model";
    config_.work_directory = root_ + "/work";
    config_.thing_name = "t1";
    config_.settle_seconds = 0;
    config_.backend = InspectBackendName();
    config_.drift.window = 20;
    config_.drift.min_window = 10;
  }
  void TearDown() override { fs::remove_all(root_); }

  // A gray plate around `level` with a scratch; `gain` darkens it.
  std::string Plate(const std::string& dir, int i, double gain) {
    const int level = 120 + (i * 37) % 60;
    cv::Mat m(120, 160, CV_8UC3, cv::Scalar(level, level, level));
    cv::line(m, {10 + i % 30, 10}, {140, 100 - i % 20}, cv::Scalar(250, 250, 250), 2);
    m.convertTo(m, -1, gain, 0);
    std::vector<uchar> buf;
    cv::imencode(".jpg", m, buf);
    const std::string path = root_ + "/" + dir + "/p" + std::to_string(1000 + i) + ".jpg";
    EXPECT_TRUE(WriteFileAtomic(path, std::string(buf.begin(), buf.end())).ok());
    return path;
  }
  // stats.json of 40 plates (input features), written into the model folder.
  void ShipStats(double gain) {
    std::vector<std::string> files;
    for (int i = 0; i < 40; ++i) files.push_back(Plate("train", i, gain));
    auto r = ComputeStatsForFiles(files, nullptr, 0.25f);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_TRUE(WriteFileAtomic(root_ + "/model/stats.json", r->stats.ToJson().dump()).ok());
  }
  void Feed(int from, int n, double gain) {
    for (int i = from; i < from + n; ++i) {
      const std::string p = Plate("dark", i, gain);
      fs::rename(p, root_ + "/cam/" + fs::path(p).filename().string());
    }
  }

  std::string root_;
  InspectConfig config_;
};

TEST_F(InspectorDriftTest, ShippedStatisticsRaiseAndClearTheAlertOnce) {
  ShipStats(1.0);
  RecordingSink sink;
  auto in = Inspector::Create(config_, sink);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  std::atomic<bool> stop{false};
  Feed(100, 20, 1.0);  // like the training plates
  ASSERT_TRUE((*in)->Run(stop, nullptr, 20).ok());
  ASSERT_EQ(sink.all.size(), 20u);
  ASSERT_TRUE(sink.all.back().json.contains("drift")) << sink.all.back().json.dump();
  EXPECT_FALSE(sink.all.back().json["drift"]["alert"].get<bool>());
  EXPECT_TRUE(sink.Drift().empty());

  Feed(200, 20, 0.5);  // darkened
  ASSERT_TRUE((*in)->Run(stop, nullptr, 20).ok());
  std::vector<Published> drift = sink.Drift();
  ASSERT_EQ(drift.size(), 1u);  // once, when the state changed
  EXPECT_EQ(drift[0].topic, "vqi/v1/results/t1/vqi.inspect/drift");
  const OrderedJson& m = drift[0].json;
  EXPECT_EQ(m["state"], "raised");
  EXPECT_TRUE(m["alert"].get<bool>());
  EXPECT_GT(m["score"].get<double>(), 1.0);
  // Halving the pixels halves brightness and contrast: either may be the largest.
  EXPECT_TRUE(m["feature"] == "brightness" || m["feature"] == "contrast") << m.dump();
  EXPECT_EQ(m["thing"], "t1");
  EXPECT_EQ(drift[0].id, m["id"]);
  EXPECT_EQ(m["id"].get<std::string>().substr(0, 3), "t1:");
  EXPECT_TRUE(m["scores"].contains("contrast"));
  EXPECT_TRUE(sink.all.back().json["drift"]["alert"].get<bool>());

  // A model update bringing statistics of darkened plates: reloaded with the model, the next
  // full window clears the alert (one message).
  ShipStats(0.5);
  Feed(300, 20, 0.5);
  ASSERT_TRUE((*in)->Run(stop, nullptr, 20).ok());
  EXPECT_GE((*in)->counters().reloads, 1);
  drift = sink.Drift();
  ASSERT_EQ(drift.size(), 2u);
  EXPECT_EQ(drift[1].json["state"], "cleared");
  EXPECT_FALSE(drift[1].json["alert"].get<bool>());
  EXPECT_LE(drift[1].json["score"].get<double>(), 1.0);
}

// A recipe that grants the results topic but not .../drift: the alert is logged, inspection
// goes on, the results carry the alert.
TEST_F(InspectorDriftTest, ARefusedAlertDoesNotStopInspection) {
  ShipStats(1.0);
  RecordingSink sink;
  sink.deny_drift = true;
  auto in = Inspector::Create(config_, sink);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  std::atomic<bool> stop{false};
  Feed(200, 20, 0.5);
  ASSERT_TRUE((*in)->Run(stop, nullptr, 20).ok());
  EXPECT_EQ(sink.all.size(), 20u);
  EXPECT_TRUE(sink.Drift().empty());
  EXPECT_TRUE(sink.all.back().json["drift"]["alert"].get<bool>());
}

TEST_F(InspectorDriftTest, NoStatisticsOrDisabledMeansNoDrift) {
  RecordingSink sink;
  Feed(100, 12, 1.0);
  {
    auto in = Inspector::Create(config_, sink);  // no stats.json in the model folder
    ASSERT_TRUE(in.ok()) << in.status().ToString();
    std::atomic<bool> stop{false};
    ASSERT_TRUE((*in)->Run(stop, nullptr, 12).ok());
  }
  ASSERT_EQ(sink.all.size(), 12u);
  EXPECT_FALSE(sink.all.back().json.contains("drift"));
  ShipStats(1.0);
  config_.drift.enabled = false;
  config_.work_directory = root_ + "/work2";
  auto off = Inspector::Create(config_, sink);
  ASSERT_TRUE(off.ok());
  std::atomic<bool> stop{false};
  ASSERT_TRUE((*off)->Run(stop, nullptr, 12).ok());
  ASSERT_EQ(sink.all.size(), 24u);
  EXPECT_FALSE(sink.all.back().json.contains("drift"));
  // A damaged shipped file is a model that does not open (the previous one keeps running).
  config_.drift.enabled = true;
  ASSERT_TRUE(WriteFileAtomic(root_ + "/model/stats.json", "{\"schema\": 1}").ok());
  auto bad = Inspector::Create(config_, sink);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("stats.json"), std::string::npos)
      << bad.status().ToString();
}

}  // namespace
}  // namespace vqi::inspect
