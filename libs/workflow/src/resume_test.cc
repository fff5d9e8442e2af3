// Issue 16, acceptance 2, with the real `vqi` binary:
// - a store holding interrupted executions that each run into a limit once resumed, and one
//   normal interrupted execution: one `workflow resume` finishes the normal one and marks
//   every other FAILED naming its limit;
// - two concurrent `workflow resume` processes on one store: every task runs once after the
//   crash (asserted on the task log written by the tasks themselves).
// Tasks are `vqi:exec` programs (the production resource) that append their idempotency key
// to a log, so the log is the ground truth of what ran.
#include <gtest/gtest.h>
// GCC 12 warns falsely on `"literal" + std::string` (GCC bug 105329).
#pragma GCC diagnostic ignored "-Wrestrict"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
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

// A task that logs its idempotency key, sleeps `seconds` (a number or a shell word such as
// "$FIRST_SLEEP"), and returns its input.
Json LoggedTask(const std::string& next, const std::string& seconds) {
  Json t = {{"Type", "Task"},
            {"Resource", "vqi:exec"},
            {"Parameters",
             {{"Command",
               {"sh", "-c",
                "echo \"$VQI_IDEMPOTENCY_KEY\" >> \"$TASK_LOG\"; sleep " + seconds + "; cat"}},
              {"Input.$", "$"}}}};
  if (next.empty())
    t["End"] = true;
  else
    t["Next"] = next;
  return t;
}

class ResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (VqiBin().empty() || !fs::exists(VqiBin())) GTEST_SKIP() << "VQI_BIN not set";
    dir_ = fs::temp_directory_path() /
           ("vqi_wf_resume_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Store() const { return (dir_ / "store.db").string(); }
  std::string Log() const { return (dir_ / "tasks.log").string(); }

  std::string WriteDef(const std::string& name, const Json& def) {
    std::string path = (dir_ / (name + ".json")).string();
    EXPECT_TRUE(WriteFileAtomic(path, def.dump()).ok());
    return path;
  }

  // Starts an execution whose first task sleeps 30 s (it is killed there).
  testing::Child Start(const std::string& name, const std::string& def,
                       const std::string& input = "{}") {
    return Spawn({VqiBin(), "workflow", "start", "--definition", def, "--name", name, "--store",
                  Store(), "--durability", "process", "--input", input},
                 (dir_ / (name + ".out")).string(), {"TASK_LOG=" + Log(), "FIRST_SLEEP=30"});
  }

  // `workflow resume` on the store; the first tasks now sleep `first_sleep` seconds.
  testing::Child Resume(const std::string& out, const std::string& first_sleep) {
    return Spawn({VqiBin(), "workflow", "resume", "--store", Store(), "--skip-waits"}, out,
                 {"TASK_LOG=" + Log(), "FIRST_SLEEP=" + first_sleep});
  }

  std::vector<std::string> LogLines() const {
    std::vector<std::string> out;
    std::ifstream in(Log());
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }

  // Waits until the log holds `n` lines (each a task that started).
  void AwaitLog(size_t n) {
    for (int i = 0; i < 400 && LogLines().size() < n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    ASSERT_GE(LogLines().size(), n);
  }

  // The JSON lines a finished `resume` printed, by execution name.
  std::map<std::string, Json> Lines(const std::string& out) {
    std::map<std::string, Json> m;
    std::ifstream in(out);
    for (std::string l; std::getline(in, l);) {
      auto j = ParseJson(l);
      if (j.ok() && j->contains("name")) m[(*j)["name"].get<std::string>()] = *j;
    }
    return m;
  }

  fs::path dir_;
};

TEST_F(ResumeTest, ResumeFinishesTheNormalExecutionAndFailsEachLimitByName) {
  // Every execution starts with a slow logged task (killed there), then does its thing.
  auto with_prefix = [&](const std::string& name, Json states, const std::string& after) {
    states["First"] = LoggedTask(after, "$FIRST_SLEEP");
    return WriteDef(name, {{"StartAt", "First"}, {"States", states}});
  };
  std::map<std::string, std::string> defs = {
      {"normal", with_prefix("normal",
                             {{"Second", LoggedTask("Done", "0")},
                              {"Done", {{"Type", "Pass"}, {"End", true}}}},
                             "Second")},
      {"payload",
       with_prefix(
           "payload",
           {{"Double",
             {{"Type", "Pass"}, {"Parameters", {{"a.$", "$"}, {"b.$", "$"}}}, {"Next", "Double"}}}},
           "Double")},
      {"history", with_prefix("history",
                              {{"A", {{"Type", "Pass"}, {"Next", "B"}}},
                               {"B", {{"Type", "Pass"}, {"Next", "A"}}}},
                              "A")},
      {"steps", with_prefix("steps",
                            {{"J",
                              {{"Type", "Pass"},
                               {"QueryLanguage", "JSONata"},
                               {"Output",
                                "{% ($f := function($n){$n = 0 ? 1 : "
                                "$f($n-1) + $f($n-1)}; $f(60)) %}"},
                               {"End", true}}}},
                            "J")},
      {"wait",
       with_prefix("wait", {{"W", {{"Type", "Wait"}, {"SecondsPath", "$.s"}, {"End", true}}}},
                   "W")},
  };
  std::vector<testing::Child> children;
  for (auto& [name, def] : defs)
    children.push_back(Start(name, def, name == "wait" ? R"({"s":1e30})" : "{}"));
  AwaitLog(defs.size());
  for (auto& c : children) {
    kill(c.pid, SIGKILL);
    Wait(c);
  }
  // Every execution is RUNNING, its lease held by a dead process.
  std::string out = (dir_ / "resume.out").string();
  int rc = Wait(Resume(out, "0"));
  auto lines = Lines(out);
  ASSERT_EQ(lines.size(), defs.size()) << "resume printed one line per execution";
  EXPECT_EQ(lines["normal"]["status"], "SUCCEEDED") << lines["normal"].dump();
  EXPECT_EQ(lines["payload"]["status"], "FAILED");
  EXPECT_EQ(lines["payload"]["error"], "States.DataLimitExceeded");
  EXPECT_EQ(lines["history"]["status"], "FAILED");
  EXPECT_NE(lines["history"]["cause"].get<std::string>().find("maximum number of history events"),
            std::string::npos);
  EXPECT_EQ(lines["steps"]["error"], "States.QueryEvaluationError");
  EXPECT_NE(lines["steps"]["cause"].get<std::string>().find("U1002"), std::string::npos);
  EXPECT_EQ(lines["wait"]["error"], "States.Runtime");
  EXPECT_EQ(rc, 3) << "some executions failed";
  // The normal execution ran its second task exactly once; nothing is left RUNNING.
  size_t second = 0;
  for (const std::string& l : LogLines()) second += l.find("/Second#1@0") != std::string::npos;
  EXPECT_EQ(second, 1u);
  auto list_out = (dir_ / "list.out").string();
  Wait(Spawn({VqiBin(), "workflow", "list", "--store", Store(), "--status", "RUNNING"}, list_out));
  std::ifstream in(list_out);
  std::string any;
  EXPECT_FALSE(std::getline(in, any)) << "still RUNNING: " << any;
}

TEST_F(ResumeTest, TwoConcurrentResumesRunEveryTaskOnce) {
  const int kExecutions = 4;
  std::string def = WriteDef("three", {{"StartAt", "T1"},
                                       {"States",
                                        {{"T1", LoggedTask("T2", "$FIRST_SLEEP")},
                                         {"T2", LoggedTask("T3", "0.2")},
                                         {"T3", LoggedTask("", "0.2")}}}});
  std::vector<testing::Child> children;
  for (int i = 0; i < kExecutions; ++i) children.push_back(Start("e" + std::to_string(i), def));
  AwaitLog(kExecutions);
  for (auto& c : children) {
    kill(c.pid, SIGKILL);
    Wait(c);
  }
  size_t before = LogLines().size();
  auto a = Resume((dir_ / "a.out").string(), "0.3");
  auto b = Resume((dir_ / "b.out").string(), "0.3");
  EXPECT_EQ(Wait(a), 0);
  EXPECT_EQ(Wait(b), 0);
  auto la = Lines((dir_ / "a.out").string()), lb = Lines((dir_ / "b.out").string());
  std::map<std::string, int> keys;
  auto lines = LogLines();
  for (size_t i = before; i < lines.size(); ++i) ++keys[lines[i]];
  EXPECT_EQ(keys.size(), static_cast<size_t>(3 * kExecutions)) << "T1 (re-run), T2, T3 of each";
  for (auto& [k, n] : keys) EXPECT_EQ(n, 1) << k << " ran " << n << " times after the crash";
  for (int i = 0; i < kExecutions; ++i) {
    std::string n = "e" + std::to_string(i);
    bool ran_a = la.count(n) && la[n]["status"] == "SUCCEEDED";
    bool ran_b = lb.count(n) && lb[n]["status"] == "SUCCEEDED";
    EXPECT_TRUE(ran_a != ran_b) << n << ": a=" << la[n].dump() << " b=" << lb[n].dump();
  }
}

}  // namespace
}  // namespace vqi::workflow
