// kill -9 of vqi-agent during a deployment (issue 19, acceptance 4): after a restart the device
// runs the whole old set or the whole new set, never a mix, and no process of the killed agent
// is left. Fast: one crash per engine phase (VQI_AGENT_CRASH_AT). The seeded random-kill campaign
// (LABELS slow) is agent_crash_campaign.cc.
#include <gtest/gtest.h>

#include <regex>

#include "agent_fixtures.h"
#include "crash_campaign_agent.h"

namespace vqi::agent_test {
namespace {

std::string IdIn(const std::string& out) {
  std::smatch m;
  return std::regex_search(out, m, std::regex("deployment (local-[0-9]+)")) ? m[1].str() : "";
}

struct Outcome {
  std::string status;  // of the interrupted deployment
  bool is_new = false;
};

// After the restart: waits for the interrupted deployment's outcome, then checks the device is
// wholly on one set, the program runs that set's paths and configuration, and nothing else
// of this root runs.
Outcome CheckWholeSet(AgentHarness& h, const std::string& id) {
  Outcome o;
  EXPECT_TRUE(WaitFor(
      [&] {
        Json s = h.Status();
        return s["lastDeployment"].is_object() &&
               s["lastDeployment"].value("deploymentId", "") == id;
      },
      20))
      << h.Status().dump();
  Json s = h.Status();
  o.status = s["lastDeployment"].value("status", "");
  const std::string model = s["components"]["com.ex.Model"].value("version", "");
  const std::string greeting =
      s["components"]["com.ex.Program"]["configuration"].value("greeting", "");
  o.is_new = model == "1.1.0";
  // Whole: the model version and the program's configuration belong to one deployment.
  EXPECT_TRUE((model == "1.0.0" && greeting == "hi") || (model == "1.1.0" && greeting == "bye"))
      << s.dump();
  EXPECT_EQ(s["components"]["com.ex.Program"].value("state", ""), "RUNNING") << s.dump();
  // The running program uses that set's model and configuration. A rollback reports its
  // outcome as soon as the old set's programs are started, before their shells print: wait
  // for the last start line to be theirs.
  std::string line;
  auto last_start = [&] {
    const std::string log = h.Log("com.ex.Program");
    const size_t last = log.rfind("start pid=");
    line = last == std::string::npos ? "" : log.substr(last, log.find('\n', last) - last);
    return line.find("com.ex.Model/" + model + " ") != std::string::npos &&
           line.find("greeting=" + greeting) != std::string::npos;
  };
  EXPECT_TRUE(WaitFor(last_start, 10)) << line;
  EXPECT_TRUE(WaitFor([&] { return h.ComponentProcesses() == 1; }, 5)) << h.ComponentProcesses();
  // The outcome is written before the in-flight record is dropped: wait for both.
  EXPECT_TRUE(WaitFor([&] { return !fs::exists(h.root() + "/state/inflight.json"); }, 5));
  return o;
}

const char kUpgrade[] = R"({"components": {
    "com.ex.Program": {"componentVersion": "1.0.0", "configurationUpdate": {"merge": "{\"greeting\": \"bye\"}"}},
    "com.ex.Model": {"componentVersion": "1.1.0"}}})";

class AgentCrash : public ::testing::TestWithParam<std::string> {};

TEST_P(AgentCrash, RestartEndsOnAWholeSet) {
  AgentHarness h;
  WriteTwoComponents(h);
  h.Start();
  ASSERT_EQ(h.Deploy(TwoComponentDoc("1.0.0")).code, 0);
  h.Start("--soak 1 --restart-base 0.1 --stop-grace 2", GetParam());
  Cmd d = h.Deploy(kUpgrade);
  EXPECT_EQ(d.code, 4) << d.out;  // the agent died under the deployment
  const std::string id = IdIn(d.out);
  ASSERT_FALSE(id.empty()) << d.out;
  const int st = h.WaitExit(10);
  ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) << st;
  h.Start();
  const Outcome o = CheckWholeSet(h, id);
  // Before the commit the deployment is resumed, after it finished: both end on the new set.
  EXPECT_EQ(o.status, "SUCCEEDED");
  EXPECT_TRUE(o.is_new);
}

INSTANTIATE_TEST_SUITE_P(Phases, AgentCrash,
                         ::testing::Values("queued", "prepared", "stopped", "started", "committed"),
                         [](const auto& info) { return info.param; });

TEST(AgentCrashLoop, RollsBackAfterRepeatedCrashesAndDuringRollback) {
  AgentHarness h;
  WriteTwoComponents(h);
  h.Start();
  ASSERT_EQ(h.Deploy(TwoComponentDoc("1.0.0")).code, 0);
  // The agent dies in the same phase on every attempt: after 2 resumes it rolls back.
  h.Start("--soak 1", "soaked");
  const std::string id = IdIn(h.Deploy(kUpgrade).out);
  ASSERT_FALSE(id.empty());
  for (int i = 0; i < 2; ++i) {
    ASSERT_NE(h.WaitExit(15), -1) << "attempt " << i;
    h.Start("--soak 1", "soaked");
  }
  ASSERT_NE(h.WaitExit(15), -1);
  h.Start();
  const Outcome o = CheckWholeSet(h, id);
  EXPECT_EQ(o.status, "FAILED_ROLLBACK_COMPLETE");
  EXPECT_FALSE(o.is_new);
  EXPECT_NE(h.Status()["lastDeployment"].value("reason", "").find("restarted 3 times"),
            std::string::npos)
      << h.Status().dump();
}

TEST(AgentCrashLoop, CrashDuringRollbackEndsOnTheOldSet) {
  AgentHarness h;
  WriteTwoComponents(h);
  h.Recipe("program-2.0.0.json", R"({"RecipeFormatVersion": "2020-01-25",
    "ComponentName": "com.ex.Program", "ComponentVersion": "2.0.0",
    "Manifests": [{"Lifecycle": {"run": "exit 5"}}]})");
  h.Start();
  ASSERT_EQ(h.Deploy(TwoComponentDoc("1.0.0")).code, 0);
  h.Start("--soak 1", "rolling-back");
  const std::string id = IdIn(h.Deploy(R"({"components": {
      "com.ex.Program": {"componentVersion": "2.0.0"}, "com.ex.Model": {"componentVersion": "1.1.0"}}})")
                                  .out);
  ASSERT_FALSE(id.empty());
  ASSERT_NE(h.WaitExit(15), -1);
  h.Start();
  const Outcome o = CheckWholeSet(h, id);
  EXPECT_EQ(o.status, "FAILED_ROLLBACK_COMPLETE");
  EXPECT_FALSE(o.is_new);
  EXPECT_NE(h.Status()["lastDeployment"].value("reason", "").find("exited with code 5"),
            std::string::npos)
      << h.Status().dump();
}

// kill -9 between fork and exec leaves the child holding the agent lock's open file description
// until its exec closes it: the restarted agent must wait for it, not exit "another agent runs"
// (found by the crash campaign). Here the test holds the lock for 300 ms in place of that child.
TEST(AgentCrashLock, RestartWaitsForALockHeldBrieflyByAKilledAgentsChild) {
  AgentHarness h;
  WriteTwoComponents(h);
  fs::create_directories(h.root() + "/state");
  const int fd =
      ::open((h.root() + "/state/agent.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  ASSERT_EQ(::fcntl(fd, F_OFD_SETLK, &fl), 0);
  h.Start();  // returns at once: the lock is held (by this test)
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ::close(fd);
  EXPECT_EQ(h.WaitExit(3), -1) << "the agent gave up on the lock";
  EXPECT_EQ(h.Deploy(TwoComponentDoc("1.0.0")).code, 0);
}

// kill -9 while a commit removes an unused version's install folder, just after its file went:
// a later deployment of that version must install it whole, not reuse the emptied folder
// (found by the crash campaign's kill at the N-th file-system mutation, crash_shim.cc).
TEST(AgentCrashRemoval, KillWhileRemovingAnOldVersionThenDeployItAgain) {
  AgentHarness h;
  WriteTwoComponents(h);
  h.Recipe("model-1.2.0.json", ModelRecipe("1.2.0"));
  h.Artifact("com.ex.Model", "1.2.0", "model.bin", "weights-three\n");
  h.Start();
  ASSERT_EQ(h.Deploy(TwoComponentDoc("1.0.0")).code, 0);
  ASSERT_EQ(h.Deploy(TwoComponentDoc("1.1.0")).code, 0);  // 1.0.0 stays: the previous set
  // Committing 1.2.0 removes 1.0.0's folder: the shim kills the agent as it removes the folder
  // itself (its file is already unlinked).
  ::setenv("LD_PRELOAD", VQI_AGENT_CRASH_SHIM, 1);
  ::setenv("VQI_CRASH_AT_OP", "remove", 1);
  ::setenv("VQI_CRASH_AT_PATH", "/packages/artifacts/com.ex.Model/1.0.0", 1);
  ::setenv("VQI_CRASH_WHEN", "before", 1);
  ::setenv("VQI_CRASH_ROOT", h.root().c_str(), 1);
  h.Start();
  for (const char* v :
       {"LD_PRELOAD", "VQI_CRASH_AT_OP", "VQI_CRASH_AT_PATH", "VQI_CRASH_WHEN", "VQI_CRASH_ROOT"})
    ::unsetenv(v);
  Cmd d = h.Deploy(TwoComponentDoc("1.2.0"));
  EXPECT_EQ(d.code, 4) << d.out;  // the agent died under the deployment
  const int st = h.WaitExit(10);
  ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) << st;
  h.Start();
  ASSERT_TRUE(WaitFor([&] { return !fs::exists(h.root() + "/state/inflight.json"); }, 10));
  EXPECT_EQ(h.Status()["components"]["com.ex.Model"].value("version", ""), "1.2.0");
  d = h.Deploy(TwoComponentDoc("1.0.0"));
  EXPECT_EQ(d.code, 0) << d.out;
  EXPECT_EQ(Slurp(h.root() + "/packages/artifacts/com.ex.Model/1.0.0/model.bin"), "weights-one\n");
}

// kill -9 between fork and exec of a component's process: until its exec the child shows the
// agent's environment, without VQI_AGENT_ROOT, so the restarted agent cannot find it; it must
// not live on as an orphan next to the restarted set (crash campaign run 3, seed 1796554399).
// The shim kills the agent right after its first fork and holds the child 1.5 s before exec.
TEST(AgentCrashFork, AChildForkedJustBeforeTheKillDoesNotOutliveTheAgent) {
  AgentHarness h;
  WriteTwoComponents(h);
  h.Start();
  ASSERT_EQ(h.Deploy(TwoComponentDoc("1.0.0")).code, 0);
  h.Stop();  // the next agent starts the program again: its first fork
  AgentProcess shimmed(h.root(), h.dir() + "/agent.log");
  shimmed.Start({{"LD_PRELOAD", ShimPath()},
                 {"VQI_CRASH_AT_FORK", "1"},
                 {"VQI_CRASH_CHILD_DELAY_MS", "1500"}});
  ASSERT_TRUE(WaitFor([&] { return !shimmed.Alive(); }, 10));
  EXPECT_EQ(shimmed.exit(), "signal 9");
  const auto killed = std::chrono::steady_clock::now();
  h.Start();  // finds no orphan (the held child has no marker yet) and starts the program
  std::this_thread::sleep_until(killed + std::chrono::milliseconds(2500));  // past its exec
  EXPECT_TRUE(WaitFor([&] { return h.ComponentProcesses() == 1; }, 5))
      << h.ComponentProcesses() << " processes of the root run";
}

}  // namespace
}  // namespace vqi::agent_test
