// Callback tasks end to end: an execution waits on .waitForTaskToken; task-success from
// another process resumes it, task-failure routes to its Catch, a missed heartbeat fails it
// with States.HeartbeatTimeout.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
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

// HEARTBEAT is replaced: 30 s where other processes heartbeat and complete (two process spawns
// and store commits must fit between beats on a loaded machine), 2 s where nobody does.
const char* kDefinition = R"({
  "StartAt": "Approve",
  "States": {
    "Approve": {"Type": "Task", "Resource": "vqi:test:token.waitForTaskToken",
                "Parameters": {"token.$": "$$.Task.Token", "what.$": "$.what"},
                "HeartbeatSeconds": HEARTBEAT, "ResultPath": "$.approval",
                "Catch": [{"ErrorEquals": ["Rejected"], "ResultPath": "$.rejection",
                           "Next": "Rejected"}],
                "Next": "Approved"},
    "Approved": {"Type": "Pass", "End": true},
    "Rejected": {"Type": "Pass", "Result": "rejected", "ResultPath": "$.outcome", "End": true}
  }
})";

class CallbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (VqiBin().empty() || !fs::exists(VqiBin())) GTEST_SKIP() << "VQI_BIN not set";
    dir_ = fs::temp_directory_path() /
           ("vqi_wf_cb_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto with_heartbeat = [](const std::string& seconds) {
      std::string d = kDefinition;
      d.replace(d.find("HEARTBEAT"), 9, seconds);
      return d;
    };
    ASSERT_TRUE(WriteFileAtomic((dir_ / "def.json").string(), with_heartbeat("30")).ok());
    ASSERT_TRUE(WriteFileAtomic((dir_ / "hb2.json").string(), with_heartbeat("2")).ok());
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Store() const { return (dir_ / "store.db").string(); }

  testing::Child Start(const std::string& name, const std::string& def = "def.json") {
    return Spawn({VqiBin(), "workflow", "start", "--definition", (dir_ / def).string(), "--input",
                  R"({"what":"model v7"})", "--name", name, "--store", Store()},
                 (dir_ / (name + ".out")).string(),
                 {"VQI_WORKFLOW_TOKEN_FILE=" + (dir_ / "tokens").string()});
  }

  std::string AwaitToken() {
    for (int i = 0; i < 200; ++i) {
      std::ifstream in(dir_ / "tokens");
      std::string t;
      if (std::getline(in, t) && !t.empty()) return t;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return "";
  }

  int Cli(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {VqiBin(), "workflow"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--store");
    argv.push_back(Store());
    return Wait(Spawn(argv, (dir_ / "cli.out").string()));
  }

  Json Result(const testing::Child& c) {
    Wait(c);
    auto text = ReadFile(c.out_path);
    EXPECT_TRUE(text.ok());
    auto j = ParseJson(text.ok() ? *text : "null");
    return j.ok() ? *j : Json();
  }

  fs::path dir_;
};

TEST_F(CallbackTest, TaskSuccessFromAnotherProcessResumesExecution) {
  auto child = Start("ok");
  std::string token = AwaitToken();
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(Cli({"task-heartbeat", "--token", token}), 0);
  EXPECT_EQ(Cli({"task-success", "--token", token, "--output", R"({"approved":true})"}), 0);
  Json r = Result(child);
  EXPECT_EQ(r["status"], "SUCCEEDED") << r.dump();
  EXPECT_EQ(r["output"]["approval"], Json::parse(R"({"approved":true})")) << r.dump();
  EXPECT_EQ(r["output"]["what"], "model v7");
  // A completed token cannot be completed again.
  EXPECT_NE(Cli({"task-success", "--token", token}), 0);
}

TEST_F(CallbackTest, TaskFailureRoutesToCatch) {
  auto child = Start("rejected");
  std::string token = AwaitToken();
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(Cli({"task-failure", "--token", token, "--error", "Rejected", "--cause", "not good"}),
            0);
  Json r = Result(child);
  EXPECT_EQ(r["status"], "SUCCEEDED") << r.dump();
  EXPECT_EQ(r["output"]["outcome"], "rejected") << r.dump();
  EXPECT_EQ(r["output"]["rejection"]["Error"], "Rejected");
  EXPECT_EQ(r["output"]["rejection"]["Cause"], "not good");
}

TEST_F(CallbackTest, MissedHeartbeatFailsWithHeartbeatTimeout) {
  auto child = Start("silent", "hb2.json");
  ASSERT_FALSE(AwaitToken().empty());
  Json r = Result(child);  // nobody heartbeats: fails after HeartbeatSeconds (2 s)
  EXPECT_EQ(r["status"], "FAILED") << r.dump();
  EXPECT_EQ(r["error"], "States.HeartbeatTimeout") << r.dump();
}

// `vqi workflow stop` from another process ends a callback wait (no heartbeat configured, so
// only the stop can end it): the supervisor is woken by the store write, sets the cancel flag
// and wakes the waiting task, which fails with States.Aborted; the execution is ABORTED.
TEST_F(CallbackTest, StopFromAnotherProcessAbortsWaitingCallback) {
  ASSERT_TRUE(WriteFileAtomic((dir_ / "long.json").string(), R"({
    "StartAt": "Approve",
    "States": {"Approve": {"Type": "Task", "Resource": "vqi:test:token.waitForTaskToken",
                           "Parameters": {"token.$": "$$.Task.Token"}, "TimeoutSeconds": 600,
                           "End": true}}})")
                  .ok());
  auto child = Start("stopped", "long.json");
  ASSERT_FALSE(AwaitToken().empty());
  EXPECT_EQ(Cli({"stop", "--execution", "stopped"}), 0);
  Json r = Result(child);
  EXPECT_EQ(r["status"], "ABORTED") << r.dump();
}

}  // namespace
}  // namespace vqi::workflow
