// Crash campaign (slow): kill -9 the engine at 50+ seeded points during a definition with
// Task, Retry, Wait, Parallel and Map states; `vqi workflow resume` must finish every
// execution with the output of an uninterrupted run, and the test resource's invocation
// log must show no completed task attempt ran twice.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "test_process.h"
#include "vqi/base/file.h"
#include "vqi/base/json.h"

namespace vqi::workflow {
namespace {

namespace fs = std::filesystem;
using testing::Spawn;
using testing::VqiBin;
using testing::Wait;

const char* kDefinition = R"({
  "StartAt": "Prepare",
  "States": {
    "Prepare": {"Type": "Task", "Resource": "vqi:test:sleep",
                "Parameters": {"Seconds": 0.03, "step": "prepare", "items.$": "$.items"},
                "Next": "Flaky"},
    "Flaky": {"Type": "Task", "Resource": "vqi:test:flaky",
              "Parameters": {"FailTimes": 2, "step": "flaky"},
              "Retry": [{"ErrorEquals": ["Test.Flaky"], "IntervalSeconds": 1, "MaxAttempts": 3}],
              "ResultPath": "$.flaky", "Next": "Pause"},
    "Pause": {"Type": "Wait", "Seconds": 2, "Next": "Fan"},
    "Fan": {"Type": "Parallel", "ResultPath": "$.fan", "Next": "Each", "Branches": [
      {"StartAt": "B1", "States": {"B1": {"Type": "Task", "Resource": "vqi:test:sleep",
                                          "Parameters": {"Seconds": 0.03, "b": 1}, "End": true}}},
      {"StartAt": "B2", "States": {
        "B2": {"Type": "Wait", "Seconds": 1, "Next": "B2T"},
        "B2T": {"Type": "Task", "Resource": "vqi:test:echo", "Parameters": {"b": 2}, "End": true}}}]},
    "Each": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 3, "ResultPath": "$.each",
             "ItemProcessor": {"StartAt": "Work", "States": {
               "Work": {"Type": "Task", "Resource": "vqi:test:sleep",
                        "Parameters": {"Seconds": 0.02, "item.$": "$"}, "Next": "Shape"},
               "Shape": {"Type": "Pass", "Parameters": {"done.$": "$.item"}, "End": true}}},
             "End": true}
  }
})";

const char* kInput = R"({"items":[1,2,3,4,5,6,7,8,9,10]})";

class CrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (VqiBin().empty() || !fs::exists(VqiBin())) GTEST_SKIP() << "VQI_BIN not set";
    dir_ = fs::temp_directory_path() / ("vqi_wf_crash_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    ASSERT_TRUE(WriteFileAtomic((dir_ / "def.json").string(), kDefinition).ok());
  }
  void TearDown() override { fs::remove_all(dir_); }

  testing::Child Run(const std::string& verb, const std::string& tag, int seed) {
    std::string store = (dir_ / ("s" + std::to_string(seed) + ".db")).string();
    std::vector<std::string> argv = {VqiBin(), "workflow", verb, "--store", store, "--skip-waits"};
    if (verb == "start") {
      for (const char* a : {"--definition"}) argv.push_back(a);
      argv.push_back((dir_ / "def.json").string());
      argv.push_back("--input");
      argv.push_back(kInput);
      argv.push_back("--name");
      argv.push_back("crash");
    } else {
      argv.push_back("--execution");
      argv.push_back("crash");
    }
    return Spawn(argv, (dir_ / (tag + ".out")).string(),
                 {"VQI_WORKFLOW_TEST_LOG=" + (dir_ / ("log" + std::to_string(seed))).string()});
  }

  Json LastLine(const std::string& path) {
    std::ifstream in(path);
    std::string line, last;
    while (std::getline(in, line))
      if (!line.empty()) last = line;
    auto j = ParseJson(last.empty() ? "null" : last);
    return j.ok() ? *j : Json();
  }

  fs::path dir_;
};

TEST_F(CrashTest, KillNineAtSeededPointsThenResume) {
  // Reference: an uninterrupted run. Its duration bounds the kill delays, so kills land
  // mid-run on fast and slow machines alike.
  auto t0 = std::chrono::steady_clock::now();
  auto ref_child = Run("start", "ref", 1000);
  ASSERT_EQ(Wait(ref_child), 0);
  const int ref_ms = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::steady_clock::now() - t0)
                                          .count());
  const int max_delay_ms = std::max(10, ref_ms * 8 / 10);
  Json reference = LastLine(ref_child.out_path);
  ASSERT_EQ(reference["status"], "SUCCEEDED") << reference.dump();

  const int kRuns = 50;
  int killed_mid_run = 0;
  for (int seed = 0; seed < kRuns; ++seed) {
    std::mt19937 rng(seed);
    int kills = 1 + seed % 3;  // up to three crashes per execution
    bool started = false;
    Json result;
    for (int round = 0; round < 20; ++round) {
      std::string tag = "run" + std::to_string(seed) + "_" + std::to_string(round);
      auto child = Run(started ? "resume" : "start", tag, seed);
      if (round < kills) {
        int delay_ms = std::uniform_int_distribution<int>(5, max_delay_ms)(rng);
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
        kill(child.pid, SIGKILL);
      }
      int code = Wait(child);
      if (code == 128 + SIGKILL) ++killed_mid_run;
      // Did the execution record get created before the kill?
      std::string store = (dir_ / ("s" + std::to_string(seed) + ".db")).string();
      auto probe = Spawn({VqiBin(), "workflow", "list", "--store", store},
                         (dir_ / "probe.out").string());
      Wait(probe);
      auto listed = ReadFile((dir_ / "probe.out").string());
      started = listed.ok() && listed->find("crash") != std::string::npos;
      if (code != 128 + SIGKILL) {
        result = LastLine(child.out_path);
        break;
      }
    }
    ASSERT_EQ(result["status"], "SUCCEEDED") << "seed " << seed << ": " << result.dump();
    EXPECT_EQ(result["output"], reference["output"]) << "seed " << seed;
    // No completed task attempt ran twice.
    std::ifstream log(dir_ / ("log" + std::to_string(seed)));
    std::map<std::string, int> runs;
    std::string line;
    while (std::getline(log, line)) {
      auto j = ParseJson(line);
      ASSERT_TRUE(j.ok()) << line;
      ++runs[(*j)["key"].get<std::string>()];
    }
    EXPECT_GE(runs.size(), 16u) << "seed " << seed;
    for (const auto& [key, n] : runs) EXPECT_EQ(n, 1) << "seed " << seed << " ran twice: " << key;
  }
  std::printf("crash campaign: %d runs, %d processes killed mid-run\n", kRuns, killed_mid_run);
  EXPECT_GE(killed_mid_run, kRuns);
}

}  // namespace
}  // namespace vqi::workflow
