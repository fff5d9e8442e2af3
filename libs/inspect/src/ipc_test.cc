// The inspector under the agent, in one process: the agent's real IpcServer and Spool on a
// socket in a temporary folder, the Inspector with IpcResultSink and IpcConfigSource
// (docs/design/inspect.md "Under the agent").
#include "vqi/inspect/ipc.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <thread>

#include "vqi/agent/ipc_server.h"
#include "vqi/base/file.h"
#include "vqi/inspect/backend.h"
#include "vqi/onnx/export.h"
#include "vqi/onnx/weights.h"

namespace vqi::inspect {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr char kComponent[] = "vqi.inspect";
constexpr char kTopic[] = "vqi/v1/results/dev-a/vqi.inspect";

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

// What the shipped recipe grants (components/recipes/vqi-inspect.yaml).
Json Grant() {
  return Json::parse(R"({"aws.greengrass.ipc.mqttproxy": {"vqi.inspect:mqttproxy:1": {
      "operations": ["aws.greengrass#PublishToIoTCore"],
      "resources": ["vqi/v1/results/+/vqi.inspect", "vqi/v1/results/+/vqi.inspect/#"]}}})");
}

class InspectIpcTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { RegisterInspectBackend(); }
  void SetUp() override {
    root_ = (fs::temp_directory_path() /
             ("inspect_ipc_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                .string();
    fs::remove_all(root_);
    for (const char* d : {"cam", "model", "work"}) fs::create_directories(root_ + "/" + d);
    ASSERT_TRUE(WriteFileAtomic(root_ + "/model/model.onnx", RandomModel(1)).ok());
    configuration_ = {{"ImageDirectory", root_ + "/cam"},
                      {"WorkDirectory", root_ + "/work"},
                      {"ScoreThreshold", 0.001},
                      {"UncertainBand", {0.0, 0.0}},  // nothing uploaded unless a test says
                      {"SettleSeconds", 0},
                      {"Backend", InspectBackendName()},
                      {"accessControl", Grant()}};
  }
  void StartAgent(size_t max_messages) {
    agent::SpoolOptions so;
    so.dir = root_ + "/spool";
    so.max_messages = max_messages;
    auto spool = agent::Spool::Open(so);
    ASSERT_TRUE(spool.ok()) << spool.status().ToString();
    spool_ = std::move(*spool);
    agent::IpcServerOptions o;
    o.socket_path = root_ + "/ipc.sock";
    o.thing = "dev-a";
    auto server = agent::IpcServer::Start(o, spool_.get());
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    token_ = server_->Register({kComponent, configuration_, metrics_file_});
  }
  void TearDown() override {
    stop_ = true;
    if (runner_.joinable()) runner_.join();
    server_.reset();
    fs::remove_all(root_);
  }
  void Image(const std::string& name, int seed = 0) {
    cv::Mat m(120, 160, CV_8UC3, cv::Scalar(150, 150, 150));
    cv::line(m, {10 + seed, 10}, {140, 105 - seed}, cv::Scalar(250, 250, 250), 2);
    std::vector<uchar> buf;
    cv::imencode(".jpg", m, buf);
    ASSERT_TRUE(WriteFileAtomic(root_ + "/cam/" + name, std::string(buf.begin(), buf.end())).ok());
  }
  // Connects as the component and starts the Inspector on its own thread (as vqi-inspect).
  void StartInspector(int64_t max_images) {
    auto link = IpcLink::Connect(root_ + "/ipc.sock", token_);
    ASSERT_TRUE(link.ok()) << link.status().ToString();
    link_ = std::move(*link);
    source_ = std::make_unique<IpcConfigSource>(
        *link_, "dev-a", Json{{"ModelDirectory", root_ + "/model"}, {"ModelVersion", "7"}});
    auto config = source_->Load();
    ASSERT_TRUE(config.ok()) << config.status().ToString();
    EXPECT_EQ(config->component_name, kComponent);
    EXPECT_EQ(config->Topic(), kTopic);
    sink_ = std::make_unique<IpcResultSink>(*link_, metrics_every_);
    auto in = Inspector::Create(*config, *sink_);
    ASSERT_TRUE(in.ok()) << in.status().ToString();
    inspector_ = std::move(*in);
    runner_ = std::thread([this, max_images] {
      run_status_ = inspector_->Run(stop_, source_.get(), max_images);
      done_ = true;
    });
  }
  // Waits until the spool holds `n` messages (or 20 s).
  bool WaitSpooled(size_t n) {
    for (int i = 0; i < 2000 && spool_->Stats().messages < n; ++i)
      std::this_thread::sleep_for(10ms);
    return spool_->Stats().messages >= n;
  }
  // Takes every stored message out of the spool, oldest first (what the sender does on PUBACK).
  std::vector<Json> Deliver() {
    std::vector<Json> out;
    for (const agent::SpoolMessage& m : spool_->After(0, 1000)) {
      EXPECT_EQ(m.topic.rfind(kTopic, 0), 0u) << m.topic;
      auto j = ParseJson(m.payload);
      EXPECT_TRUE(j.ok());
      out.push_back(*j);
      EXPECT_TRUE(spool_->Remove(m.seq).ok());
    }
    return out;
  }
  bool WaitDone() {
    for (int i = 0; i < 3000 && !done_; ++i) std::this_thread::sleep_for(10ms);
    return done_;
  }

  std::string root_, token_;
  std::string metrics_file_;  // "" = the agent refuses PutMetric (FailedPrecondition)
  int metrics_every_ = kDefaultMetricsEvery;
  Json configuration_;
  std::unique_ptr<agent::Spool> spool_;
  std::unique_ptr<agent::IpcServer> server_;
  std::unique_ptr<IpcLink> link_;
  std::unique_ptr<IpcConfigSource> source_;
  std::unique_ptr<IpcResultSink> sink_;
  std::unique_ptr<Inspector> inspector_;
  std::thread runner_;
  std::atomic<bool> stop_{false}, done_{false};
  Status run_status_;
};

std::vector<std::string> Names(const std::vector<Json>& results) {
  std::vector<std::string> names;
  for (const Json& r : results) names.push_back(r["image"]["name"].get<std::string>());
  return names;
}

TEST_F(InspectIpcTest, ResultsArriveInTheSpoolInOrderWithIdsAndUncertainImagesAreUploaded) {
  configuration_["UncertainBand"] = {0.0, 1.0};  // every decoded image is uncertain
  StartAgent(100);
  for (int i = 0; i < 4; ++i) Image("img" + std::to_string(i) + ".jpg", i);
  StartInspector(4);
  ASSERT_TRUE(WaitDone());
  ASSERT_TRUE(run_status_.ok()) << run_status_.ToString();
  std::vector<Json> results, uploads;
  for (Json& m : Deliver()) (m.value("kind", "") == "upload" ? uploads : results).push_back(m);
  EXPECT_EQ(Names(results),
            (std::vector<std::string>{"img0.jpg", "img1.jpg", "img2.jpg", "img3.jpg"}));
  std::set<std::string> ids;
  for (const Json& r : results) {
    EXPECT_EQ(r["schema"], "vqi.inspect.result/1");
    EXPECT_EQ(r["thing"], "dev-a");
    EXPECT_EQ(r["component"], kComponent);
    EXPECT_EQ(r["model"]["version"], "7");
    EXPECT_EQ(r["model"]["name"], "model");  // the folder's name (no ModelName given)
    ASSERT_TRUE(r.contains("vqiMessageId"));
    ids.insert(r["vqiMessageId"].get<std::string>());
  }
  EXPECT_EQ(ids.size(), 4u);
  // Each image's upload follows its result, with the metadata the server files it by.
  ASSERT_EQ(uploads.size(), 4u);
  for (size_t i = 0; i < uploads.size(); ++i) {
    const Json& u = uploads[i];
    EXPECT_EQ(u["name"], results[i]["image"]["name"]);
    EXPECT_EQ(u["contentType"], "image/jpeg");
    EXPECT_EQ(u["sha256"], results[i]["image"]["id"]);
    const Json& md = u["metadata"];
    EXPECT_EQ(md["thing"], "dev-a");
    EXPECT_EQ(md["component"], kComponent);
    EXPECT_EQ(md["modelName"], "model");
    EXPECT_EQ(md["modelVersion"], "7");
    EXPECT_EQ(md["resultId"], results[i]["id"]);
    EXPECT_EQ(md["imageName"], results[i]["image"]["name"]);
    EXPECT_EQ(md["imageId"], results[i]["image"]["id"]);
    EXPECT_DOUBLE_EQ(md["bestScore"].get<double>(), results[i]["best_score"].get<double>());
  }
  EXPECT_EQ(sink_->counters().published, 4);
  EXPECT_EQ(sink_->counters().uploaded, 4);
  std::printf("deliver (publish + upload into the spool, journal commit): %.3f ms/image\n",
              inspector_->counters().deliver_ms / 4);
}

// Every 3 results: defect_rate (fails / 3) and inference_ms (mean model ms, results with an
// error verdict left out) through PutMetric into the component's metrics file, recomputed here
// from the delivered results.
TEST_F(InspectIpcTest, DefectRateAndInferenceMsGoToTheMetricsFileEveryNResults) {
  metrics_file_ = root_ + "/metrics.jsonl";
  metrics_every_ = 3;
  configuration_["ScoreThreshold"] = 0.5;
  StartAgent(100);
  for (int i = 0; i < 6; ++i) Image("img" + std::to_string(i) + ".jpg", 7 * i);
  ASSERT_TRUE(WriteFileAtomic(root_ + "/cam/img3.jpg", "not an image").ok());  // verdict error
  StartInspector(6);
  ASSERT_TRUE(WaitDone());
  ASSERT_TRUE(run_status_.ok()) << run_status_.ToString();
  const std::vector<Json> results = Deliver();
  ASSERT_EQ(results.size(), 6u);
  EXPECT_EQ(std::count_if(results.begin(), results.end(),
                          [](const Json& r) { return r["verdict"] == "error"; }),
            1);
  std::vector<Json> expected;  // two full windows, in the order the results were published
  for (size_t w = 0; w + 3 <= results.size(); w += 3) {
    int fails = 0, timed = 0;
    double ms = 0;
    for (size_t i = w; i < w + 3; ++i) {
      fails += results[i]["verdict"] == "fail";
      if (results[i]["verdict"] != "error") {
        ms += results[i]["timings_ms"]["model"].get<double>();
        ++timed;
      }
    }
    expected.push_back({{"metric", "defect_rate"}, {"value", fails / 3.0}});
    expected.push_back({{"metric", "inference_ms"}, {"value", ms / timed}});
  }
  std::vector<Json> lines;
  auto text = ReadFile(metrics_file_);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  for (size_t at = 0, nl; (nl = text->find('\n', at)) != std::string::npos; at = nl + 1) {
    auto j = ParseJson(text->substr(at, nl - at));
    ASSERT_TRUE(j.ok()) << *text;
    lines.push_back(*j);
  }
  ASSERT_EQ(lines.size(), expected.size()) << *text;
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i]["metric"], expected[i]["metric"]) << *text;
    EXPECT_NEAR(lines[i]["value"].get<double>(), expected[i]["value"].get<double>(), 1e-9) << *text;
  }
  EXPECT_EQ(sink_->counters().metrics_sent, 4);
  EXPECT_EQ(sink_->counters().metrics_failed, 0);
}

// The agent refusing PutMetric (here: no metrics file) is logged; inspection goes on.
TEST_F(InspectIpcTest, ARefusedMetricNeverStopsInspection) {
  metrics_every_ = 2;
  StartAgent(100);
  for (int i = 0; i < 4; ++i) Image("img" + std::to_string(i) + ".jpg", i);
  StartInspector(4);
  ASSERT_TRUE(WaitDone());
  ASSERT_TRUE(run_status_.ok()) << run_status_.ToString();
  EXPECT_EQ(Names(Deliver()),
            (std::vector<std::string>{"img0.jpg", "img1.jpg", "img2.jpg", "img3.jpg"}));
  EXPECT_EQ(sink_->counters().metrics_sent, 0);
  EXPECT_EQ(sink_->counters().metrics_failed, 4);
}

TEST_F(InspectIpcTest, AFullSpoolKeepsTheImageUnjournaledUntilItIsPublished) {
  StartAgent(3);
  for (int i = 0; i < 5; ++i) Image("img" + std::to_string(i) + ".jpg", i);
  StartInspector(5);
  ASSERT_TRUE(WaitSpooled(3));
  std::this_thread::sleep_for(400ms);  // img3 is refused (ResourceExhausted) and retried
  EXPECT_FALSE(done_.load());
  EXPECT_EQ(spool_->Stats().messages, 3u);
  std::vector<Json> delivered = Deliver();  // the broker is back: the spool drains
  ASSERT_TRUE(WaitSpooled(2));
  ASSERT_TRUE(WaitDone());
  ASSERT_TRUE(run_status_.ok()) << run_status_.ToString();
  for (Json& m : Deliver()) delivered.push_back(m);
  EXPECT_EQ(Names(delivered),
            (std::vector<std::string>{"img0.jpg", "img1.jpg", "img2.jpg", "img3.jpg", "img4.jpg"}));
  EXPECT_GE(inspector_->counters().publish_retries, 1);
  EXPECT_EQ(inspector_->counters().images, 5);
  // Every image journaled exactly once: a restart inspects nothing again.
  auto journal = ReadFile(root_ + "/work/processed.journal");
  ASSERT_TRUE(journal.ok());
  for (int i = 0; i < 5; ++i) {
    const std::string name = "img" + std::to_string(i) + ".jpg";
    size_t count = 0;
    for (size_t p = journal->find(name); p != std::string::npos; p = journal->find(name, p + 1))
      ++count;
    EXPECT_EQ(count, 1u) << name;
  }
}

TEST_F(InspectIpcTest, AConfigurationUpdateChangesTheThresholdBetweenImagesNoneLostOrRepeated) {
  StartAgent(100);
  StartInspector(6);
  for (int i = 0; i < 3; ++i) {
    Image("img" + std::to_string(i) + ".jpg", i);
    ASSERT_TRUE(WaitSpooled(static_cast<size_t>(i) + 1));
  }
  Json updated = configuration_;
  updated["ScoreThreshold"] = 0.9;
  server_->Register({kComponent, updated, ""});  // the agent's configuration merge
  std::this_thread::sleep_for(1s);               // the loop polls every ≤ 200 ms
  for (int i = 3; i < 6; ++i) {
    Image("img" + std::to_string(i) + ".jpg", i);
    ASSERT_TRUE(WaitSpooled(static_cast<size_t>(i) + 1));
  }
  ASSERT_TRUE(WaitDone());
  ASSERT_TRUE(run_status_.ok()) << run_status_.ToString();
  std::vector<Json> results = Deliver();
  EXPECT_EQ(Names(results), (std::vector<std::string>{"img0.jpg", "img1.jpg", "img2.jpg",
                                                      "img3.jpg", "img4.jpg", "img5.jpg"}));
  for (size_t i = 0; i < results.size(); ++i)
    EXPECT_EQ(results[i]["inference-description"],
              i < 3 ? "Detections with score 0.001 or above" : "Detections with score 0.9 or above")
        << i;
  EXPECT_EQ(inspector_->counters().reloads, 1);
  EXPECT_EQ(inspector_->config().score_threshold, 0.9f);
  std::printf("deliver (publish into the spool, journal commit; no upload): %.3f ms/image\n",
              inspector_->counters().deliver_ms / 6);
}

// The config source alone: defaults fill what the document lacks, an invalid update is
// reported once and not applied, the next valid one is.
TEST_F(InspectIpcTest, ConfigSourceReportsAnInvalidUpdateOnceThenAppliesTheNextValidOne) {
  StartAgent(10);
  auto link = IpcLink::Connect(root_ + "/ipc.sock", token_);
  ASSERT_TRUE(link.ok()) << link.status().ToString();
  IpcConfigSource source(**link, "dev-a",
                         Json{{"ModelDirectory", root_ + "/model"}, {"ScoreThreshold", 0.7}});
  std::vector<std::string> unknown;
  auto first = source.Load(&unknown);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->model_directory, root_ + "/model");  // from the defaults
  EXPECT_EQ(first->score_threshold, 0.001f);            // the document wins over a default
  EXPECT_EQ(unknown, std::vector<std::string>{"accessControl"});
  auto poll = [&] {  // the next change, waiting for its event
    Result<std::optional<InspectConfig>> r = std::optional<InspectConfig>();
    for (int i = 0; i < 300; ++i) {
      r = source.Poll();
      if (!r.ok() || r->has_value()) break;
      std::this_thread::sleep_for(10ms);
    }
    return r;
  };
  EXPECT_FALSE(source.Poll()->has_value());  // nothing changed
  Json bad = configuration_;
  bad["Mode"] = 3;
  server_->Register({kComponent, bad, ""});
  auto refused = poll();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("configuration of component vqi.inspect: Mode"),
            std::string::npos)
      << refused.status().ToString();
  EXPECT_FALSE(source.Poll()->has_value());  // reported once
  Json good = configuration_;
  good["PublishResultsOnTopic"] = "vqi/v1/results/dev-a/vqi.inspect/line2";
  server_->Register({kComponent, good, ""});
  auto applied = poll();
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  ASSERT_TRUE(applied->has_value());
  EXPECT_EQ((*applied)->Topic(), "vqi/v1/results/dev-a/vqi.inspect/line2");
}

TEST_F(InspectIpcTest, AMissingGrantIsFatalAndNamesIt) {
  configuration_.erase("accessControl");
  StartAgent(100);
  Image("img0.jpg");
  StartInspector(1);
  ASSERT_TRUE(WaitDone());
  EXPECT_EQ(run_status_.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(run_status_.message().find("aws.greengrass#PublishToIoTCore"), std::string::npos)
      << run_status_.ToString();
  EXPECT_NE(run_status_.message().find(kTopic), std::string::npos) << run_status_.ToString();
  EXPECT_EQ(spool_->Stats().messages, 0u);
  EXPECT_EQ(inspector_->counters().images, 0);  // not journaled: inspected again after the fix
}

TEST_F(InspectIpcTest, WhileTheAgentIsGoneTheImageIsKeptAStaleTokenAfterItsRestartIsFatal) {
  StartAgent(100);
  Image("img0.jpg");
  StartInspector(3);
  ASSERT_TRUE(WaitSpooled(1));
  // The agent goes away (and its socket with it); an image arrives meanwhile: Unavailable,
  // retried with backoff, not journaled.
  server_.reset();
  Image("img1.jpg", 1);
  // (The counter is read while the inspector runs: a plain int64_t, read for the test only.)
  for (int i = 0; i < 100 && inspector_->counters().publish_retries < 1; ++i)
    std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(done_.load());
  EXPECT_GE(inspector_->counters().publish_retries, 1);
  // A restarted agent makes new tokens (and restarts its components with them): the old one
  // is refused, which is fatal — the component exits and its restart inspects img1.
  agent::IpcServerOptions o;
  o.socket_path = root_ + "/ipc.sock";
  o.thing = "dev-a";
  auto server = agent::IpcServer::Start(o, spool_.get());
  ASSERT_TRUE(server.ok());
  server_ = std::move(*server);
  EXPECT_NE(server_->Register({kComponent, configuration_, ""}), token_);
  ASSERT_TRUE(WaitDone());
  EXPECT_EQ(run_status_.code(), StatusCode::kPermissionDenied) << run_status_.ToString();
  EXPECT_NE(run_status_.message().find("SVCUID"), std::string::npos) << run_status_.ToString();
  EXPECT_EQ(inspector_->counters().images, 1);
  EXPECT_EQ(spool_->Stats().messages, 1u);
  auto journal = ReadFile(root_ + "/work/processed.journal");
  ASSERT_TRUE(journal.ok());
  EXPECT_EQ(journal->find("img1.jpg"), std::string::npos);
}

}  // namespace
}  // namespace vqi::inspect
