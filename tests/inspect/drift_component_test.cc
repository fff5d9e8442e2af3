// Issue 20, acceptance 5 (drift half), through the component path: the training statistics
// travel with the model component (`vqi component from-model` computes stats.json over the train
// part of the split the model's lineage names, signs it with the model) and vqi-inspect, given
// only the model folder as the agent lays it out (<root>/packages/artifacts/vqi.model.G/<v>/),
// turns the drift monitor on with them: the training images keep the alert down, the same
// images darkened raise it, once, with a vqi.inspect.drift/1 message.
//
// Data: synthetic tags (`vqi dataset synth`), and the metal-tag photos when
// $VQI_SHARED_DIR/datasets/metal-tags exists (skipped, saying so, when it does not).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sstream>

#include "run_vqi.h"
#include "vqi/base/file.h"
#include "vqi/base/json.h"

namespace vqi {
namespace {

namespace fs = std::filesystem;
using testing::RunVqi;

int RunInspect(const std::vector<std::string>& argv, const std::string& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int st = 0;
  ::waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

std::vector<Json> ReadLines(const std::string& path) {
  std::vector<Json> out;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line))
    if (auto j = ParseJson(line, path); j.ok()) out.push_back(*j);
  return out;
}

std::string Read(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class DriftComponentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (fs::temp_directory_path() /
             ("drift_component_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                .string();
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  testing::CmdResult Vqi(const std::string& args) {
    return RunVqi("--home " + root_ + "/home " + args);
  }

  // The dataset (already imported into the home) is split; a random-weight model is
  // registered with that split as its lineage, approved, and packaged by from-model. Returns
  // the model folder as the agent lays it out.
  std::string PackageModel() {
    auto split = Vqi("--json dataset split");
    EXPECT_EQ(split.code, 0) << split.out;
    const std::string digest = Json::parse(split.out)["digest"];
    auto r =
        RunVqi("model export --random t --imgsz 96x64 --seed 3 --out " + root_ + "/model.onnx");
    EXPECT_EQ(r.code, 0) << r.out;
    OrderedJson report;
    report["model"] = root_ + "/model.onnx";
    report["source"] = {
        {"dataset", "default"}, {"split", "default"}, {"part", "test"}, {"split_digest", digest}};
    report["failed_images"] = 0;
    report["metrics"] = {
        {"images", 9},      {"map50", 0.9},  {"map75", 0.5}, {"map50_95", 0.6},
        {"precision", 0.8}, {"recall", 0.7}, {"f1", 0.75},   {"per_class", Json::array()}};
    EXPECT_TRUE(WriteFileAtomic(root_ + "/report.json", report.dump()).ok());
    r = Vqi("model register --group tags --model " + root_ + "/model.onnx --report " + root_ +
            "/report.json --by alice");
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(Vqi("model approve --group tags --version 1 --by bob").code, 0);
    EXPECT_EQ(Vqi("key create acme").code, 0);
    r = Vqi("component from-model --group tags --key acme");
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("drift statistics: 6 features over"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("created vqi.model.tags@1.0.0"), std::string::npos) << r.out;
    std::printf("%s", r.out.c_str());
    r = Vqi("component verify vqi.model.tags@1.0.0");
    EXPECT_EQ(r.code, 0) << r.out;
    r = Vqi("component show vqi.model.tags --json");
    EXPECT_EQ(r.code, 0) << r.out;
    const Json c = Json::parse(r.out);
    EXPECT_EQ(
        c["recipe"]["ComponentConfiguration"]["DefaultConfiguration"]["model"]["files"]["stats"],
        "stats.json");
    const std::string dir = root_ + "/agent/packages/artifacts/vqi.model.tags/1.0.0";
    fs::create_directories(dir);
    std::set<std::string> names;
    for (const Json& a : c["artifacts"]) {
      const std::string d = a["digest"];
      fs::copy_file(root_ + "/home/artifacts/" + d.substr(0, 2) + "/" + d,
                    dir + "/" + a["name"].get<std::string>());
      names.insert(a["name"]);
    }
    EXPECT_EQ(names, (std::set<std::string>{"model.onnx", "stats.json"}));
    return dir;
  }

  // The train part's images, and the same darkened x0.5.
  void Cameras() {
    auto r = Vqi("dataset export --format yolo --split default --out " + root_ + "/export");
    ASSERT_EQ(r.code, 0) << r.out;
    fs::create_directories(root_ + "/dark");
    for (const auto& e : fs::directory_iterator(root_ + "/export/images/train")) {
      cv::Mat m = cv::imread(e.path().string());
      ASSERT_FALSE(m.empty()) << e.path();
      m.convertTo(m, -1, 0.5, 0);
      cv::imwrite(root_ + "/dark/" + e.path().stem().string() + ".jpg", m);
      ++train_images_;
    }
  }

  // vqi-inspect over `cam` with only the model folder (no Drift key): results and drift
  // messages of the run.
  struct Run {
    Json last_drift;           // the last result's drift field
    std::vector<Json> alerts;  // vqi.inspect.drift/1 messages
    size_t results = 0;
  };
  Run Inspect(const std::string& model_dir, const std::string& cam) {
    const std::string name = fs::path(cam).filename().string();
    const Json config = {{"ImageDirectory", cam},
                         {"ModelDirectory", model_dir},
                         {"ModelName", "vqi.model.tags"},
                         {"ModelVersion", "1.0.0"},
                         {"ThingName", "line-1"},
                         {"WorkDirectory", root_ + "/work-" + name},
                         {"SettleSeconds", 0}};
    EXPECT_TRUE(WriteFileAtomic(root_ + "/" + name + ".json", config.dump()).ok());
    const std::string log = root_ + "/" + name + ".log";
    EXPECT_EQ(
        RunInspect({VQI_INSPECT_BIN, "--config", root_ + "/" + name + ".json", "--results",
                    root_ + "/" + name + ".jsonl", "--max-images", std::to_string(train_images_)},
                   log),
        0)
        << Read(log);
    Run run;
    for (const Json& j : ReadLines(root_ + "/" + name + ".jsonl")) {
      if (j.value("schema", "") == "vqi.inspect.drift/1") {
        run.alerts.push_back(j);
      } else {
        ++run.results;
        run.last_drift = j.value("drift", Json());
      }
    }
    EXPECT_EQ(run.results, static_cast<size_t>(train_images_));
    return run;
  }

  void TrainingImagesPassDarkenedOnesAlert(const std::string& what) {
    const std::string model_dir = PackageModel();
    Cameras();
    ASSERT_GE(train_images_, 50) << "the default MinWindow is 50 images";
    const Run same = Inspect(model_dir, root_ + "/export/images/train");
    const Run dark = Inspect(model_dir, root_ + "/dark");
    ASSERT_TRUE(same.last_drift.is_object()) << "drift is off without a Drift key";
    ASSERT_TRUE(dark.last_drift.is_object());
    EXPECT_EQ(same.last_drift["window"], train_images_);
    EXPECT_FALSE(same.last_drift["alert"].get<bool>()) << same.last_drift.dump();
    EXPECT_TRUE(same.alerts.empty());
    EXPECT_TRUE(dark.last_drift["alert"].get<bool>()) << dark.last_drift.dump();
    ASSERT_EQ(dark.alerts.size(), 1u);
    EXPECT_EQ(dark.alerts[0]["state"], "raised");
    EXPECT_EQ(dark.alerts[0]["thing"], "line-1");
    EXPECT_EQ(dark.alerts[0]["model"]["version"], "1.0.0");
    std::printf("%s: %d training images through vqi-inspect: drift %s; darkened x0.5: %s\n",
                what.c_str(), train_images_, same.last_drift.dump().c_str(),
                dark.last_drift.dump().c_str());
    std::printf("alert message: %s\n", dark.alerts[0].dump().c_str());
  }

  std::string root_;
  int train_images_ = 0;
};

TEST_F(DriftComponentTest, SyntheticTags) {
  auto r = Vqi("dataset synth --count 100 --seed 2");
  ASSERT_EQ(r.code, 0) << r.out;
  TrainingImagesPassDarkenedOnesAlert("synthetic tags");
}

TEST_F(DriftComponentTest, MetalTags) {
  const char* shared = std::getenv("VQI_SHARED_DIR");
  const std::string data = shared ? std::string(shared) + "/datasets/metal-tags" : "";
  if (data.empty() || !fs::exists(data + "/labels.csv"))
    GTEST_SKIP() << "shared metal-tags data absent (VQI_SHARED_DIR=" << (shared ? shared : "")
                 << "): the synthetic test covers the same path";
  auto r = Vqi("dataset import " + data);
  ASSERT_EQ(r.code, 0) << r.out;
  TrainingImagesPassDarkenedOnesAlert("metal tags");
}

// Without a split in the lineage (or with --no-stats) from-model says so and packages the
// model alone; --stats FILE packages that file (checked first).
TEST_F(DriftComponentTest, FromModelWithoutASplitSaysSo) {
  auto r = RunVqi("model export --random t --imgsz 96x64 --seed 3 --out " + root_ + "/model.onnx");
  ASSERT_EQ(r.code, 0) << r.out;
  OrderedJson report;
  report["model"] = root_ + "/model.onnx";
  report["source"] = {{"part", "test"}};
  report["failed_images"] = 0;
  report["metrics"] = {
      {"images", 9},      {"map50", 0.9},  {"map75", 0.5}, {"map50_95", 0.6},
      {"precision", 0.8}, {"recall", 0.7}, {"f1", 0.75},   {"per_class", Json::array()}};
  ASSERT_TRUE(WriteFileAtomic(root_ + "/report.json", report.dump()).ok());
  ASSERT_EQ(Vqi("model register --group tags --model " + root_ + "/model.onnx --report " + root_ +
                "/report.json --by alice")
                .code,
            0);
  ASSERT_EQ(Vqi("model approve --group tags --version 1 --by bob").code, 0);
  ASSERT_EQ(Vqi("key create acme").code, 0);
  ASSERT_TRUE(WriteFileAtomic(root_ + "/bad.json", R"({"schema": "vqi.inspect.stats/1"})").ok());
  r = Vqi("component from-model --group tags --key acme --stats " + root_ + "/bad.json");
  EXPECT_EQ(r.code, 2) << r.out;  // invalid input
  EXPECT_NE(r.out.find("bad.json: features"), std::string::npos) << r.out;
  r = Vqi("component from-model --group tags --key acme --stats x --no-stats");
  EXPECT_EQ(r.code, 2) << r.out;
  r = Vqi("component from-model --group tags --key acme");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("no drift statistics for model tags/1: its lineage names no dataset split"),
            std::string::npos)
      << r.out;
  r = Vqi("component show vqi.model.tags --json");
  EXPECT_EQ(Json::parse(r.out)["artifacts"].size(), 1u) << r.out;
  // The user's statistics make the next version (the model is the same).
  r = Vqi("dataset synth --count 20 --seed 4");
  ASSERT_EQ(r.code, 0) << r.out;
  ASSERT_EQ(Vqi("dataset split --ratios 1,0,0").code, 0);
  ASSERT_EQ(Vqi("inspect stats --out " + root_ + "/stats.json").code, 0);
  r = Vqi("component from-model --group tags --key acme --stats " + root_ + "/stats.json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("created vqi.model.tags@1.0.1"), std::string::npos) << r.out;
  EXPECT_EQ(Vqi("component verify vqi.model.tags@1.0.1").code, 0);
  r = Vqi("component from-model --group tags --key acme --stats " + root_ + "/stats.json");
  EXPECT_NE(r.out.find("up to date"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace vqi
