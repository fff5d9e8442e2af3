#include "vqi/inspect/inspector.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "vqi/base/file.h"
#include "vqi/inspect/backend.h"
#include "vqi/onnx/export.h"
#include "vqi/onnx/weights.h"

namespace vqi::inspect {
namespace {

namespace fs = std::filesystem;

// Collects what would be published; fails the first `fail_first` publishes (Unavailable).
class FakeSink : public ResultSink {
 public:
  Status Publish(const std::string& topic, const std::string& id,
                 const OrderedJson& result) override {
    if (fail_first > 0) {
      --fail_first;
      return Unavailable("broker down");
    }
    results.push_back(result);
    return Status::Ok();
  }
  Status Upload(const std::string& image_path, const OrderedJson& result) override {
    uploads.push_back(image_path);
    return Status::Ok();
  }
  int fail_first = 0;
  std::vector<OrderedJson> results;
  std::vector<std::string> uploads;
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

class InspectorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { RegisterInspectBackend(); }
  void SetUp() override {
    root_ = (fs::temp_directory_path() /
             ("inspector_test_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                .string();
    fs::remove_all(root_);
    for (const char* d : {"cam", "model", "work"}) fs::create_directories(root_ + "/" + d);
    ASSERT_TRUE(WriteFileAtomic(root_ + "/model/model.onnx", RandomModel(1)).ok());
    config_.image_directory = root_ + "/cam";
    config_.model_directory = root_ + "/model";
    config_.work_directory = root_ + "/work";
    config_.thing_name = "t1";
    config_.model_version = "1";
    config_.score_threshold = 0.001f;  // random weights score low (Ultralytics bias init)
    config_.uncertain_lo = 0.0f;
    config_.uncertain_hi = 1.0f;  // every decoded image is uncertain: uploads are exercised
    config_.settle_seconds = 0;
    config_.backend = InspectBackendName();
  }
  void TearDown() override { fs::remove_all(root_); }
  void Image(const std::string& name, int w = 160, int h = 120, int seed = 0) {
    cv::Mat m(h, w, CV_8UC3, cv::Scalar(150, 150, 150));
    cv::line(m, {10 + seed, 10}, {w - 20, h - 15 - seed}, cv::Scalar(250, 250, 250), 2);
    std::vector<uchar> buf;
    cv::imencode(".jpg", m, buf);
    ASSERT_TRUE(WriteFileAtomic(root_ + "/cam/" + name, std::string(buf.begin(), buf.end())).ok());
  }
  std::unique_ptr<Inspector> Make(ResultSink& sink) {
    auto in = Inspector::Create(config_, sink);
    EXPECT_TRUE(in.ok()) << in.status().ToString();
    return in.ok() ? std::move(*in) : nullptr;
  }
  std::string root_;
  InspectConfig config_;
};

TEST_F(InspectorTest, OneImageGivesDetectionsInImagePixels) {
  Image("a.jpg");
  FakeSink sink;
  auto in = Make(sink);
  ASSERT_TRUE(in);
  InspectResult r = in->InspectFile("a.jpg");
  ASSERT_NE(r.verdict, Verdict::kError) << r.error.ToString();
  EXPECT_EQ(r.width, 160);
  EXPECT_EQ(r.height, 120);
  EXPECT_EQ(r.image_id.size(), 64u);
  EXPECT_EQ(r.verdict, r.detections.empty() ? Verdict::kPass : Verdict::kFail);
  for (const eval::Detection& d : r.detections) {
    EXPECT_GE(d.score, 0.001f);
    EXPECT_LE(d.score, r.best_score);
    EXPECT_GE(d.x1, 0);
    EXPECT_LE(d.x2, 160);
    EXPECT_LE(d.y2, 120);
  }
  EXPECT_GT(r.timings.model_ms, 0);
  EXPECT_EQ(r.backend, InspectBackendName());
}

TEST_F(InspectorTest, BadFilesGiveErrorResults) {
  config_.max_image_pixels = 200 * 200;
  ASSERT_TRUE(WriteFileAtomic(root_ + "/cam/notes.txt", "not an image").ok());
  ASSERT_TRUE(WriteFileAtomic(root_ + "/cam/empty.jpg", "").ok());
  Image("big.jpg", 400, 300);
  Image("good.jpg");
  auto good = ReadFile(root_ + "/cam/good.jpg");
  ASSERT_TRUE(WriteFileAtomic(root_ + "/cam/cut.jpg", good->substr(0, 200)).ok());
  // Cut after the pixels began: libjpeg would fill the rest with gray and decode it.
  ASSERT_TRUE(WriteFileAtomic(root_ + "/cam/half.jpg", good->substr(0, good->size() / 2)).ok());
  FakeSink sink;
  auto in = Make(sink);
  ASSERT_TRUE(in);
  struct Case {
    const char* name;
    StatusCode code;
    const char* text;
  };
  for (const Case& c : {Case{"notes.txt", StatusCode::kInvalidArgument, "not a JPEG"},
                        Case{"empty.jpg", StatusCode::kInvalidArgument, "empty"},
                        Case{"big.jpg", StatusCode::kResourceExhausted, "MaxImagePixels"},
                        Case{"cut.jpg", StatusCode::kInvalidArgument, "cut.jpg"},
                        Case{"half.jpg", StatusCode::kInvalidArgument, "truncated JPEG"},
                        Case{"missing.jpg", StatusCode::kNotFound, "missing.jpg"}}) {
    InspectResult r = in->InspectFile(c.name);
    EXPECT_EQ(r.verdict, Verdict::kError) << c.name;
    EXPECT_EQ(r.error.code(), c.code) << c.name << ": " << r.error.ToString();
    EXPECT_NE(r.error.message().find(c.text), std::string::npos) << r.error.ToString();
    EXPECT_EQ(r.ToJson()["error"]["code"], StatusCodeName(c.code));
  }
  EXPECT_NE(in->InspectFile("good.jpg").verdict, Verdict::kError);
}

TEST_F(InspectorTest, RunInspectsEachFileOnceAcrossRestarts) {
  for (int i = 0; i < 3; ++i) Image("img" + std::to_string(i) + ".jpg", 160, 120, i);
  ASSERT_TRUE(WriteFileAtomic(root_ + "/cam/junk.bin", "\x01\x02").ok());
  FakeSink sink;
  std::atomic<bool> stop{false};
  {
    auto in = Make(sink);
    ASSERT_TRUE(in->Run(stop, nullptr, 4).ok());
    EXPECT_EQ(in->counters().images, 4);
    EXPECT_EQ(in->counters().errors, 1);
  }
  Image("img3.jpg", 160, 120, 3);
  {
    auto in = Make(sink);  // a restart: the journal in WorkDirectory remembers the first four
    ASSERT_TRUE(in->Run(stop, nullptr, 1).ok());
    EXPECT_EQ(in->counters().skipped, 4);
  }
  std::set<std::string> names;
  for (const OrderedJson& r : sink.results) names.insert(r["image"]["name"].get<std::string>());
  EXPECT_EQ(sink.results.size(), 5u);
  EXPECT_EQ(names,
            (std::set<std::string>{"img0.jpg", "img1.jpg", "img2.jpg", "img3.jpg", "junk.bin"}));
  EXPECT_EQ(sink.uploads.size(), 4u);  // every decoded image (band [0, 1]); never the error
}

TEST_F(InspectorTest, BatchModeGivesEachImageItsLatencyModeResult) {
  for (int i = 0; i < 7; ++i) Image("img" + std::to_string(i) + ".jpg", 160 + 8 * i, 120, i);
  ASSERT_TRUE(WriteFileAtomic(root_ + "/cam/junk.bin", "\x01\x02").ok());
  auto run = [&](int batch, InspectCounters* counters) {
    fs::remove_all(root_ + "/work");  // a fresh journal: every image again
    config_.batch = batch;
    FakeSink sink;
    auto in = Make(sink);
    std::atomic<bool> stop{false};
    EXPECT_TRUE(in && in->Run(stop, nullptr, 8).ok());
    if (in) *counters = in->counters();
    std::map<std::string, OrderedJson> by_name;
    for (OrderedJson r : sink.results) {
      const std::string name = r["image"]["name"].get<std::string>();
      EXPECT_FALSE(by_name.count(name)) << name << " published twice";
      for (const char* k : {"timings_ms", "timestamp", "drift"}) r.erase(k);
      by_name[name] = r;
    }
    return by_name;
  };
  if (config_.backend == "opencv") {  // batch N runs on onednn only: refused at open
    config_.batch = 3;
    FakeSink sink;
    auto in = Inspector::Create(config_, sink);
    ASSERT_FALSE(in.ok());
    EXPECT_NE(in.status().ToString().find("batch"), std::string::npos);
    GTEST_SKIP() << "opencv backend: batch refused as it should be";
  }
  InspectCounters c1, c3;
  const auto one = run(1, &c1);
  const auto three = run(3, &c3);
  ASSERT_EQ(one.size(), 8u);
  EXPECT_EQ(c1.batch_runs, 0);
  EXPECT_GE(c3.batch_runs, 1);  // the 8 files were queued at start: batches of 3 formed
  EXPECT_EQ(c3.images, 8);
  EXPECT_EQ(c3.errors, 1);
  // The same detections: classes and order exactly, boxes and scores up to float rounding
  // (batch N runs the head unfused, batch 1 the fused decode: 1 ulp of score, 1e-4 px, so a
  // value printed rounded to 0.001 px / 1e-5 may flip its last digit); the rest exactly.
  size_t boxes = 0;
  for (const auto& [name, r] : one) {
    ASSERT_TRUE(three.count(name)) << name;
    OrderedJson a = r, b = three.at(name);
    EXPECT_EQ(a["verdict"], b["verdict"]) << name;
    EXPECT_NEAR(a["best_score"].get<double>(), b["best_score"].get<double>(), 2e-5) << name;
    if (a.contains("detections")) {
      ASSERT_EQ(a["detections"].size(), b["detections"].size()) << name;
      boxes += a["detections"].size();
      for (size_t k = 0; k < a["detections"].size(); ++k) {
        const OrderedJson &x = a["detections"][k], &y = b["detections"][k];
        EXPECT_EQ(x["class_id"], y["class_id"]) << name;
        EXPECT_NEAR(x["confidence"].get<double>(), y["confidence"].get<double>(), 2e-5) << name;
        for (size_t c = 0; c < 4; ++c)
          EXPECT_NEAR(x["box"][c].get<double>(), y["box"][c].get<double>(), 2e-3) << name;
      }
    }
    for (const char* k : {"best_score", "detections", "inference-results"}) a.erase(k), b.erase(k);
    EXPECT_EQ(a.dump(), b.dump()) << name;  // ids, image, verdict, error, model, ...
  }
  EXPECT_GT(boxes, 0u);  // the comparison covers boxes, not only empty results
}

TEST_F(InspectorTest, PublishFailuresAreRetriedNotLost) {
  Image("a.jpg");
  FakeSink sink;
  sink.fail_first = 2;
  auto in = Make(sink);
  std::atomic<bool> stop{false};
  ASSERT_TRUE(in->Run(stop, nullptr, 1).ok());
  ASSERT_EQ(sink.results.size(), 1u);
  EXPECT_EQ(in->counters().publish_retries, 2);
}

TEST_F(InspectorTest, ModelChangeReloadsAndABrokenModelKeepsTheOldOne) {
  FakeSink sink;
  auto in = Make(sink);
  Image("a.jpg");
  std::atomic<bool> stop{false};
  ASSERT_TRUE(in->Run(stop, nullptr, 1).ok());
  const auto before = sink.results[0]["best_score"].dump() + sink.results[0]["detections"].dump();
  ASSERT_TRUE(WriteFileAtomic(root_ + "/model/model.onnx", RandomModel(2)).ok());
  Image("b.jpg");  // same pixels as a.jpg
  ASSERT_TRUE(in->Run(stop, nullptr, 1).ok());
  EXPECT_EQ(in->counters().reloads, 1);
  // Other weights, other scores and boxes.
  EXPECT_NE(sink.results[1]["best_score"].dump() + sink.results[1]["detections"].dump(), before);
  ASSERT_TRUE(WriteFileAtomic(root_ + "/model/model.onnx", "not a model").ok());
  Image("c.jpg");
  ASSERT_TRUE(in->Run(stop, nullptr, 1).ok());
  EXPECT_EQ(in->counters().reloads, 1);  // refused: the previous model keeps inspecting
  ASSERT_EQ(sink.results.size(), 3u);
  EXPECT_EQ(sink.results[2]["verdict"] == "error", false);
  EXPECT_EQ(sink.results[2]["detections"].dump(), sink.results[1]["detections"].dump());
}

TEST_F(InspectorTest, ConfigurationReloadChangesTheTopicBetweenImages) {
  FakeSink sink;
  auto in = Make(sink);
  Image("a.jpg");
  std::atomic<bool> stop{false};
  ASSERT_TRUE(in->Run(stop, nullptr, 1).ok());
  InspectConfig next = config_;
  next.topic = "factory/line2";
  ASSERT_TRUE(in->Reload(next).ok());
  Image("b.jpg");
  ASSERT_TRUE(in->Run(stop, nullptr, 1).ok());
  EXPECT_EQ(sink.results[1]["topic"], "factory/line2");
  InspectConfig broken = next;
  broken.model_file = "missing.onnx";
  EXPECT_FALSE(in->Reload(broken).ok());
  EXPECT_EQ(in->config().model_file, "model.onnx");
  InspectConfig gone = next;
  gone.image_directory = root_ + "/missing";
  gone.model_version = "2";
  EXPECT_FALSE(in->Reload(gone).ok());  // nothing changes, not even the version
  EXPECT_EQ(in->config().model_version, "1");
  InspectConfig moved = next;  // a new camera folder: its files are picked up
  moved.image_directory = root_ + "/cam2";
  fs::create_directories(moved.image_directory);
  fs::copy_file(root_ + "/cam/a.jpg", moved.image_directory + "/z.jpg");
  ASSERT_TRUE(in->Reload(moved).ok());
  ASSERT_TRUE(in->Run(stop, nullptr, 1).ok());
  ASSERT_EQ(sink.results.size(), 3u);
  EXPECT_EQ(sink.results[2]["image"]["name"], "z.jpg");
}

TEST_F(InspectorTest, AChangedConfigurationFileIsAppliedBetweenImages) {
  Json j = {{"ImageDirectory", config_.image_directory},
            {"ModelDirectory", config_.model_directory},
            {"WorkDirectory", config_.work_directory},
            {"Backend", config_.backend},
            {"SettleSeconds", 0}};
  const std::string path = root_ + "/config.json";
  ASSERT_TRUE(WriteFileAtomic(path, j.dump()).ok());
  FileConfigSource source(path, "t9");
  auto first = source.Poll();
  ASSERT_TRUE(first.ok() && first->has_value());
  config_ = **first;
  FakeSink sink;
  auto in = Make(sink);
  Image("a.jpg");
  std::atomic<bool> stop{false};
  ASSERT_TRUE(in->Run(stop, &source, 1).ok());
  EXPECT_EQ(in->counters().reloads, 0);  // unchanged file: no reload
  j["PublishResultsOnTopic"] = "plant/line9";
  ASSERT_TRUE(WriteFileAtomic(path, j.dump()).ok());
  Image("b.jpg");
  ASSERT_TRUE(in->Run(stop, &source, 1).ok());
  EXPECT_EQ(in->counters().reloads, 1);
  ASSERT_EQ(sink.results.size(), 2u);
  EXPECT_EQ(sink.results[0]["topic"], "vqi/v1/results/t9/vqi.inspect");
  EXPECT_EQ(sink.results[1]["topic"], "plant/line9");
  ASSERT_TRUE(WriteFileAtomic(path, "{\"Mode\": 3}").ok());  // invalid: reported, not applied
  auto bad = source.Poll();
  EXPECT_FALSE(bad.ok());
  auto again = source.Poll();  // reported once
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
}

TEST_F(InspectorTest, IntervalModeTakesOneImageEveryInterval) {
  config_.mode = Mode::kInterval;
  config_.inference_interval = 0.3;
  for (int i = 0; i < 3; ++i) Image("i" + std::to_string(i) + ".jpg", 160, 120, i);
  FakeSink sink;
  auto in = Make(sink);
  std::vector<int64_t> stamps;
  in->OnResult([&](const InspectResult& r) { stamps.push_back(r.timestamp_ms); });
  std::atomic<bool> stop{false};
  ASSERT_TRUE(in->Run(stop, nullptr, 3).ok());
  ASSERT_EQ(stamps.size(), 3u);
  EXPECT_GE(stamps[1] - stamps[0], 250);
  EXPECT_GE(stamps[2] - stamps[1], 250);
}

TEST_F(InspectorTest, CreateRefusesAMissingModel) {
  config_.model_file = "none.onnx";
  FakeSink sink;
  auto in = Inspector::Create(config_, sink);
  EXPECT_FALSE(in.ok());
}

}  // namespace
}  // namespace vqi::inspect
