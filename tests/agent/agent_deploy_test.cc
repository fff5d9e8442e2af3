// vqi-agent end to end with real processes: local deployments, upgrades, rollback, timeouts,
// BROKEN, ZIP artifacts and refused documents (issue 19; docs/design/agent.md).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <zip.h>

#include "agent_fixtures.h"

namespace vqi::agent_test {
namespace {

std::string State(const Json& status, const std::string& name) {
  if (!status.contains("components") || !status["components"].contains(name)) return "(absent)";
  return status["components"][name].value("state", "?");
}
std::string Version(const Json& status, const std::string& name) {
  if (!status.contains("components") || !status["components"].contains(name)) return "(absent)";
  return status["components"][name].value("version", "?");
}
size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

TEST(AgentDeploy, TwoComponentSetRunsWithInterpolatedPaths) {
  AgentHarness h;
  WriteTwoComponents(h);
  h.Start();
  Cmd d = h.Deploy(TwoComponentDoc("1.0.0"));
  ASSERT_EQ(d.code, 0) << d.out;
  EXPECT_NE(d.out.find("SUCCEEDED"), std::string::npos) << d.out;
  const std::string log = h.Log("com.ex.Program");
  const std::string r = h.root();
  EXPECT_NE(log.find("model=" + r + "/packages/artifacts/com.ex.Model/1.0.0 "), std::string::npos)
      << log;
  EXPECT_NE(log.find("work=" + r + "/work/com.ex.Program cwd=" + r + "/work/com.ex.Program"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("root=" + r + " greeting=hi"), std::string::npos) << log;
  EXPECT_NE(log.find("weights-one"), std::string::npos) << log;
  Json s = h.Status();
  EXPECT_EQ(State(s, "com.ex.Program"), "RUNNING") << s.dump();
  EXPECT_EQ(State(s, "com.ex.Model"), "FINISHED") << s.dump();
  EXPECT_EQ(s["components"]["com.ex.Program"]["configuration"]["greeting"], "hi");
  EXPECT_EQ(s["components"]["com.ex.Program"]["configuration"]["level"], 1);  // default kept
  // Artifacts are read-only copies (Permission Read OWNER).
  struct stat st {};
  ASSERT_EQ(::stat((r + "/packages/artifacts/com.ex.Model/1.0.0/model.bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0400u);
  // SIGTERM stops the components (reverse order) and the agent exits 0.
  EXPECT_EQ(h.Stop(), 0);
  EXPECT_EQ(h.ComponentProcesses(), 0);
}

TEST(AgentDeploy, ModelOnlyUpgradeTouchesOnlyTheModelAndRestartsItsHardDependent) {
  AgentHarness h;
  WriteTwoComponents(h);
  h.Start();
  ASSERT_EQ(h.Deploy(TwoComponentDoc("1.0.0")).code, 0);
  const std::string old_model = h.root() + "/packages/artifacts/com.ex.Model/1.0.0/model.bin";
  struct stat before {};
  ASSERT_EQ(::stat(old_model.c_str(), &before), 0);
  Cmd d = h.Deploy(R"({"components": {"com.ex.Program": {"componentVersion": "1.0.0"},
                                       "com.ex.Model": {"componentVersion": "1.1.0"}}})");
  ASSERT_EQ(d.code, 0) << d.out;
  struct stat after {};
  ASSERT_EQ(::stat(old_model.c_str(), &after), 0);  // the old version's folder is untouched
  EXPECT_EQ(before.st_ino, after.st_ino);
  EXPECT_EQ(before.st_mtime, after.st_mtime);
  // The program's folder (version unchanged) is the one of the first deployment.
  EXPECT_EQ(std::distance(fs::directory_iterator(h.root() + "/packages/artifacts/com.ex.Program"),
                          fs::directory_iterator{}),
            1);
  const std::string log = h.Log("com.ex.Program");
  EXPECT_EQ(Count(log, "start pid="), 2u) << log;  // restarted: a HARD dependency changed
  EXPECT_NE(log.find("com.ex.Model/1.1.0"), std::string::npos) << log;
  EXPECT_NE(log.find("weights-two"), std::string::npos) << log;
  Json s = h.Status();
  EXPECT_EQ(Version(s, "com.ex.Model"), "1.1.0");
  EXPECT_EQ(s["components"]["com.ex.Program"]["configuration"]["greeting"], "hi");  // kept
  // A third model version: 1.0.0 is in neither the current nor the previous set, so its
  // folder is removed; 1.1.0 (previous, needed for a rollback) stays.
  h.Recipe("model-1.2.0.json", ModelRecipe("1.2.0"));
  h.Artifact("com.ex.Model", "1.2.0", "model.bin", "weights-three\n");
  ASSERT_EQ(h.Deploy(TwoComponentDoc("1.2.0")).code, 0);
  EXPECT_FALSE(fs::exists(h.root() + "/packages/artifacts/com.ex.Model/1.0.0"));
  EXPECT_TRUE(fs::exists(h.root() + "/packages/artifacts/com.ex.Model/1.1.0/model.bin"));
  EXPECT_TRUE(fs::exists(h.root() + "/packages/artifacts/com.ex.Model/1.2.0/model.bin"));
  d = h.Deploy(R"({"components": {"com.ex.Program": {"componentVersion": "1.0.0"},
                                   "com.ex.Model": {"componentVersion": "1.1.0"}}})");
  ASSERT_EQ(d.code, 0) << d.out;
  const size_t starts = Count(h.Log("com.ex.Program"), "start pid=");
  // The same set again: nothing changes, nothing restarts.
  d = h.Deploy(R"({"components": {"com.ex.Program": {"componentVersion": "1.0.0"},
                                   "com.ex.Model": {"componentVersion": "1.1.0"}}})");
  ASSERT_EQ(d.code, 0) << d.out;
  EXPECT_EQ(Count(h.Log("com.ex.Program"), "start pid="), starts);
}

TEST(AgentDeploy, FailingRunRollsBackToThePreviousSet) {
  AgentHarness h;
  WriteTwoComponents(h);
  h.Recipe("program-2.0.0.json", R"({"RecipeFormatVersion": "2020-01-25",
    "ComponentName": "com.ex.Program", "ComponentVersion": "2.0.0",
    "Manifests": [{"Lifecycle": {"run": "echo v2 fails; exit 3"}}]})");
  h.Start();
  ASSERT_EQ(h.Deploy(TwoComponentDoc("1.0.0")).code, 0);
  Cmd d = h.Deploy(R"({"components": {"com.ex.Program": {"componentVersion": "2.0.0"},
                                       "com.ex.Model": {"componentVersion": "1.1.0"}}})");
  EXPECT_EQ(d.code, 3) << d.out;
  EXPECT_NE(d.out.find("FAILED_ROLLBACK_COMPLETE: com.ex.Program 2.0.0: run exited with code 3"),
            std::string::npos)
      << d.out;
  Json s = h.Status();
  EXPECT_EQ(Version(s, "com.ex.Program"), "1.0.0");
  EXPECT_EQ(Version(s, "com.ex.Model"), "1.0.0");
  EXPECT_EQ(State(s, "com.ex.Program"), "RUNNING") << s.dump();
  EXPECT_EQ(s["lastDeployment"]["status"], "FAILED_ROLLBACK_COMPLETE");
  // The previous version runs again, with the previous model and configuration: a start line
  // after v2's failure (the outcome is reported as soon as it is started, before it prints).
  std::string log;
  size_t last = std::string::npos;
  EXPECT_TRUE(WaitFor(
      [&] {
        log = h.Log("com.ex.Program");
        const size_t failed = log.find("v2 fails");
        last = log.rfind("start pid=");
        return failed != std::string::npos && last != std::string::npos && last > failed &&
               log.find('\n', last) != std::string::npos;
      },
      10))
      << log;
  ASSERT_NE(last, std::string::npos);
  EXPECT_NE(log.find("com.ex.Model/1.0.0 ", last), std::string::npos) << log;
  EXPECT_NE(log.find("greeting=hi", last), std::string::npos) << log;
  // Exactly the restored program, once its run script's own short-lived children (the echo and
  // cat of its first lines, which carry the same environment) have exited.
  EXPECT_TRUE(WaitFor([&] { return h.ComponentProcesses() == 1; }, 5)) << h.ComponentProcesses();
}

TEST(AgentDeploy, InstallTimeoutFailsTheDeploymentQuickly) {
  AgentHarness h;
  h.Recipe("slow.json", R"({"RecipeFormatVersion": "2020-01-25", "ComponentName": "com.ex.Slow",
    "ComponentVersion": "1.0.0", "Manifests": [{"Lifecycle": {
      "install": {"Script": "sleep 30", "Timeout": 1}, "run": "sleep 1000"}}]})");
  h.Start();
  const auto t0 = std::chrono::steady_clock::now();
  Cmd d = h.Deploy(R"({"components": {"com.ex.Slow": {"componentVersion": "1.0.0"}}})");
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(d.code, 3) << d.out;
  EXPECT_NE(d.out.find("FAILED_ROLLBACK_COMPLETE: com.ex.Slow 1.0.0: install timed out after 1 s"),
            std::string::npos)
      << d.out;
  EXPECT_LT(took, 10);
  // The sleeping install was killed with its group (a killed grandchild may take a moment to go).
  EXPECT_TRUE(WaitFor([&] { return h.ComponentProcesses() == 0; }, 5)) << h.ComponentProcesses();
}

TEST(AgentDeploy, RepeatedRunErrorsEndBroken) {
  AgentHarness h;
  h.Recipe("flaky.json", R"({"RecipeFormatVersion": "2020-01-25", "ComponentName": "com.ex.Flaky",
    "ComponentVersion": "1.0.0", "Manifests": [{"Lifecycle": {
      "run": "echo attempt; exit 7", "recover": "echo recovering"}}]})");
  h.Start();
  Cmd d = h.Deploy(R"({"components": {"com.ex.Flaky": {"componentVersion": "1.0.0"}},
                       "deploymentPolicies": {"failureHandlingPolicy": "DO_NOTHING"}})");
  EXPECT_EQ(d.code, 3) << d.out;
  EXPECT_NE(d.out.find("FAILED_NO_ROLLBACK: com.ex.Flaky 1.0.0: run exited with code 7"),
            std::string::npos)
      << d.out;
  ASSERT_TRUE(WaitFor([&] { return State(h.Status(), "com.ex.Flaky") == "BROKEN"; }, 10))
      << h.Status().dump();
  std::this_thread::sleep_for(std::chrono::milliseconds(800));  // no further restart
  const std::string log = h.Log("com.ex.Flaky");
  EXPECT_EQ(Count(log, "attempt"), 3u) << log;
  EXPECT_EQ(Count(log, "recovering"), 2u) << log;           // after errors 1 and 2
  EXPECT_EQ(Version(h.Status(), "com.ex.Flaky"), "1.0.0");  // DO_NOTHING keeps the new set
}

void WriteZip(const std::string& path) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  ASSERT_NE(z, nullptr);
  static const char kData[] = "zipped-content\n";
  zip_source_t* s = zip_source_buffer(z, kData, sizeof kData - 1, 0);
  ASSERT_GE(zip_file_add(z, "inner/data.txt", s, ZIP_FL_ENC_UTF_8), 0);
  ASSERT_EQ(zip_close(z), 0);
}

TEST(AgentDeploy, ZipArtifactIsUnpacked) {
  AgentHarness h;
  fs::create_directories(h.dir() + "/artifacts/com.ex.Zip/1.0.0");
  WriteZip(h.ArtifactPath("com.ex.Zip", "1.0.0", "bundle.zip"));
  h.Recipe("zip.json", R"({"RecipeFormatVersion": "2020-01-25", "ComponentName": "com.ex.Zip",
    "ComponentVersion": "1.0.0", "Manifests": [{
      "Artifacts": [{"URI": "s3://b/bundle.zip", "Unarchive": "ZIP"}],
      "Lifecycle": {"run": "cat {artifacts:decompressedPath}/bundle/inner/data.txt"}}]})");
  h.Start();
  Cmd d = h.Deploy(R"({"components": {"com.ex.Zip": {"componentVersion": "1.0.0"}}})");
  ASSERT_EQ(d.code, 0) << d.out;
  EXPECT_NE(h.Log("com.ex.Zip").find("zipped-content"), std::string::npos) << h.Log("com.ex.Zip");
  EXPECT_EQ(State(h.Status(), "com.ex.Zip"), "FINISHED");
}

TEST(AgentDeploy, BadDocumentsAreRefusedBeforeAnythingChanges) {
  AgentHarness h;
  WriteTwoComponents(h);
  h.Recipe("program-3.0.0.json", ProgramRecipe("3.0.0", ">=2.0.0"));
  h.Artifact("com.ex.Model", "1.0.0", "model.bin", "weights-one\n");
  h.Start();
  ASSERT_EQ(h.Deploy(TwoComponentDoc("1.0.0")).code, 0);
  const std::string current = Slurp(h.root() + "/state/current.json");
  const std::string log = h.Log("com.ex.Program");
  struct Case {
    std::string doc, message;
  };
  const std::vector<Case> cases = {
      {"{not json", "d.json"},
      {R"({"components": {}})", "components: must be an object naming at least one component"},
      {R"({"components": {"com.ex.Model": {"componentVersion": "1.0.0"}}, "bogus": 1})",
       "bogus: unknown key (accepted:"},
      {R"({"components": {"com.ex.Model": {}}})",
       "components.com.ex.Model.componentVersion: required"},
      {R"({"components": {"com.ex.Model": {"componentVersion": "1.0.0",
           "configurationUpdate": {"merge": {"a": 1}}}}})",
       "components.com.ex.Model.configurationUpdate.merge: must be a string holding a JSON object"},
      {R"({"components": {"com.ex.Model": {"componentVersion": "1.0.0",
           "configurationUpdate": {"reset": ["no-slash"]}}}})",
       "configurationUpdate.reset[0]: 'no-slash' is not a JSON pointer"},
      {R"({"components": {"com.ex.Model": {"componentVersion": "1.0.0"}},
           "deploymentPolicies": {"failureHandlingPolicy": "PANIC"}})",
       "failureHandlingPolicy: must be ROLLBACK or DO_NOTHING"},
      {R"({"components": {"com.ex.Nope": {"componentVersion": "1.0.0"}}})", "com.ex.Nope"},
      {R"({"components": {"com.ex.Model": {"componentVersion": "9.9.9"}}})", "9.9.9"},
      {R"({"components": {"com.ex.Model": {"componentVersion": "one"}}})", "componentVersion"},
      // Program 3.0.0 needs Model >=2.0.0: unsatisfiable, both requirers named.
      {R"({"components": {"com.ex.Program": {"componentVersion": "3.0.0"}}})", ">=2.0.0"},
  };
  for (const auto& c : cases) {
    Cmd d = h.Deploy(c.doc);
    EXPECT_EQ(d.code, 1) << c.doc << "\n" << d.out;
    EXPECT_NE(d.out.find(c.message), std::string::npos) << c.doc << "\n" << d.out;
  }
  // A missing artifact and a digest mismatch are refused too.
  h.Recipe("model-1.2.0.json", ModelRecipe("1.2.0"));
  Cmd d = h.Deploy(TwoComponentDoc("1.2.0"));
  EXPECT_EQ(d.code, 1);
  EXPECT_NE(d.out.find("artifact s3://bucket/model.bin of com.ex.Model 1.2.0: no file"),
            std::string::npos)
      << d.out;
  h.Recipe("model-1.3.0.json",
           R"({"RecipeFormatVersion": "2020-01-25", "ComponentName": "com.ex.Model",
    "ComponentVersion": "1.3.0", "Manifests": [{"Artifacts": [{"URI": "s3://b/model.bin",
    "Digest": "0000000000000000000000000000000000000000000000000000000000000000", "Algorithm": "SHA-256"}]}]})");
  h.Artifact("com.ex.Model", "1.3.0", "model.bin", "tampered\n");
  d = h.Deploy(TwoComponentDoc("1.3.0"));
  EXPECT_EQ(d.code, 1);
  EXPECT_NE(d.out.find("SHA-256"), std::string::npos) << d.out;
  // Nothing changed: same set, no restart, nothing queued.
  EXPECT_EQ(Slurp(h.root() + "/state/current.json"), current);
  EXPECT_EQ(h.Log("com.ex.Program"), log);
  EXPECT_TRUE(fs::is_empty(h.root() + "/state/inbox"));
  EXPECT_FALSE(fs::exists(h.root() + "/packages/artifacts/com.ex.Model/1.2.0"));
}

TEST(AgentDeploy, DamagedStateIsRefusedNotGuessed) {
  AgentHarness h;
  fs::create_directories(h.root() + "/state");
  Write(h.root() + "/state/current.json", "{\"components\": 1");
  Cmd c = Sh(std::string(VQI_AGENT_BIN) + " run --root " + h.root());
  EXPECT_EQ(c.code, 1);
  EXPECT_NE(c.out.find(h.root() + "/state/current.json"), std::string::npos) << c.out;
  Write(h.root() + "/state/current.json", R"({"deploymentId": "x"})");
  c = Sh(std::string(VQI_AGENT_BIN) + " run --root " + h.root());
  EXPECT_EQ(c.code, 1);
  EXPECT_NE(c.out.find("current.json: damaged"), std::string::npos) << c.out;
}

TEST(AgentDeploy, SecondAgentOnOneRootIsRefused) {
  AgentHarness h;
  h.Start();
  Cmd c = Sh(std::string(VQI_AGENT_BIN) + " run --root " + h.root());
  EXPECT_EQ(c.code, 1);
  EXPECT_NE(c.out.find("another vqi-agent runs on " + h.root()), std::string::npos) << c.out;
}

}  // namespace
}  // namespace vqi::agent_test
