// vqi-agent lifecycle steps with real processes: setEnv, Skipif, startup, shutdown, the
// queue (a newer deployment supersedes a queued one) and RequiresPrivilege with --user.
#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <regex>

#include "agent_fixtures.h"

namespace vqi::agent_test {
namespace {

std::string Last(AgentHarness& h, const std::string& key) {
  const Json s = h.Status();
  if (!s.contains("lastDeployment") || !s["lastDeployment"].is_object()) return "";
  return s["lastDeployment"].value(key, "");
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

TEST(AgentLifecycle, SetEnvSkipifStartupAndShutdown) {
  AgentHarness h;
  h.Recipe("svc.json", R"({"RecipeFormatVersion": "2020-01-25", "ComponentName": "com.ex.Svc",
    "ComponentVersion": "1.0.0",
    "ComponentConfiguration": {"DefaultConfiguration": {"mode": "a"}},
    "Manifests": [{"Lifecycle": {
      "setEnv": {"GREET": "from-setenv"},
      "install": {"Script": "echo installing; touch installed", "Skipif": "exists {work:path}/installed"},
      "startup": {"Script": "echo startup $GREET mode={configuration:/mode} step=$STEP", "Setenv": {"STEP": "s1"}},
      "shutdown": "echo shutdown-ran"}}]})");
  h.Recipe("bad-startup.json", R"({"RecipeFormatVersion": "2020-01-25",
    "ComponentName": "com.ex.Svc", "ComponentVersion": "2.0.0",
    "Manifests": [{"Lifecycle": {"startup": "echo failing startup; exit 4"}}]})");
  h.Start();
  Cmd d = h.Deploy(R"({"components": {"com.ex.Svc": {"componentVersion": "1.0.0"}}})");
  ASSERT_EQ(d.code, 0) << d.out;
  EXPECT_EQ(h.Status()["components"]["com.ex.Svc"].value("state", ""), "RUNNING");
  std::string log = h.Log("com.ex.Svc");
  EXPECT_NE(log.find("startup from-setenv mode=a step=s1"), std::string::npos) << log;
  // A configuration change restarts it: shutdown runs, install is skipped (the file exists).
  d = h.Deploy(R"({"components": {"com.ex.Svc": {"componentVersion": "1.0.0",
                   "configurationUpdate": {"merge": "{\"mode\": \"b\"}"}}}})");
  ASSERT_EQ(d.code, 0) << d.out;
  log = h.Log("com.ex.Svc");
  EXPECT_EQ(Count(log, "installing"), 1u) << log;
  EXPECT_EQ(Count(log, "shutdown-ran"), 1u) << log;
  EXPECT_NE(log.find("startup from-setenv mode=b"), std::string::npos) << log;
  // A startup that exits non-zero fails the deployment; 1.0.0 (mode b) comes back.
  d = h.Deploy(R"({"components": {"com.ex.Svc": {"componentVersion": "2.0.0"}}})");
  EXPECT_EQ(d.code, 3) << d.out;
  EXPECT_NE(d.out.find("FAILED_ROLLBACK_COMPLETE: com.ex.Svc 2.0.0: startup exited with code 4"),
            std::string::npos)
      << d.out;
  log = h.Log("com.ex.Svc");
  EXPECT_EQ(Count(log, "startup from-setenv mode=b"), 2u) << log;
  EXPECT_EQ(Count(log, "shutdown-ran"), 2u) << log;  // 1.0.0 (mode b) stopped for 2.0.0
  // The agent's SIGTERM runs shutdown once more.
  EXPECT_EQ(h.Stop(), 0);
  EXPECT_EQ(Count(h.Log("com.ex.Svc"), "shutdown-ran"), 3u);
}

TEST(AgentLifecycle, DoNothingKeepsTheNewSetAndStartsTheRest) {
  AgentHarness h;
  h.Recipe("a.json", R"({"RecipeFormatVersion": "2020-01-25", "ComponentName": "com.ex.A",
    "ComponentVersion": "1.0.0", "Manifests": [{"Lifecycle": {"install": "exit 9", "run": "sleep 1000"}}]})");
  h.Recipe("b.json", R"({"RecipeFormatVersion": "2020-01-25", "ComponentName": "com.ex.B",
    "ComponentVersion": "1.0.0", "Manifests": [{"Lifecycle": {"run": "echo b-runs; exec sleep 1000"}}]})");
  h.Start();
  Cmd d = h.Deploy(R"({"components": {"com.ex.A": {"componentVersion": "1.0.0"},
                                       "com.ex.B": {"componentVersion": "1.0.0"}},
                       "deploymentPolicies": {"failureHandlingPolicy": "DO_NOTHING"}})");
  EXPECT_EQ(d.code, 3) << d.out;
  EXPECT_NE(d.out.find("FAILED_NO_ROLLBACK: com.ex.A 1.0.0: install exited with code 9"),
            std::string::npos)
      << d.out;
  const Json s = h.Status();
  EXPECT_EQ(s["components"]["com.ex.A"].value("state", ""), "ERRORED") << s.dump();
  EXPECT_EQ(s["components"]["com.ex.B"].value("state", ""), "RUNNING") << s.dump();
  // B is started, not awaited, when A has failed: its first line comes when its shell runs.
  EXPECT_TRUE(
      WaitFor([&] { return h.Log("com.ex.B").find("b-runs") != std::string::npos; }, 10));
}

TEST(AgentLifecycle, NewerDeploymentSupersedesAQueuedOne) {
  AgentHarness h;
  WriteTwoComponents(h);
  // No agent runs: both are queued.
  Cmd a = h.Deploy(TwoComponentDoc("1.0.0"));
  ASSERT_EQ(a.code, 0) << a.out;
  EXPECT_NE(a.out.find("QUEUED"), std::string::npos) << a.out;
  Cmd b = h.Deploy(TwoComponentDoc("1.1.0"));
  ASSERT_EQ(b.code, 0) << b.out;
  std::smatch ma, mb;
  ASSERT_TRUE(std::regex_search(a.out, ma, std::regex("local-[0-9]+")));
  ASSERT_TRUE(std::regex_search(b.out, mb, std::regex("local-[0-9]+")));
  h.Start();
  ASSERT_TRUE(WaitFor([&] { return Last(h, "status") == "SUCCEEDED"; }, 20)) << h.Status().dump();
  EXPECT_EQ(Last(h, "deploymentId"), mb.str());
  EXPECT_EQ(h.Status()["components"]["com.ex.Model"].value("version", ""), "1.1.0");
  auto first = ParseJson(Slurp(h.root() + "/state/deployments/" + ma.str() + ".json"));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ((*first)["status"], "CANCELED");
  EXPECT_EQ((*first)["reason"], "superseded by deployment " + mb.str());
  EXPECT_EQ(Count(h.Log("com.ex.Program"), "start pid="), 1u);  // only the newer one ran
}

TEST(AgentLifecycle, PrivilegedStepsRunAsRootOthersAsTheUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (the refusal when not root is in plan_test)";
  passwd* nobody = ::getpwnam("nobody");
  if (!nobody) GTEST_SKIP() << "no user nobody";
  AgentHarness h;
  h.Recipe("priv.json", R"J({"RecipeFormatVersion": "2020-01-25", "ComponentName": "com.ex.Priv",
    "ComponentVersion": "1.0.0", "Manifests": [{"Lifecycle": {
      "install": {"Script": "echo install-uid=$(id -u)", "RequiresPrivilege": true},
      "run": "echo run-uid=$(id -u)"}}]})J");
  h.Start("--soak 0.5 --user nobody");
  Cmd d = h.Deploy(R"({"components": {"com.ex.Priv": {"componentVersion": "1.0.0"}}})");
  ASSERT_EQ(d.code, 0) << d.out;
  const std::string log = h.Log("com.ex.Priv");
  EXPECT_NE(log.find("install-uid=0"), std::string::npos) << log;
  EXPECT_NE(log.find("run-uid=" + std::to_string(nobody->pw_uid)), std::string::npos) << log;
}

}  // namespace
}  // namespace vqi::agent_test
