// Issue 19, acceptance 1 and 3a with real processes on loopback: Mosquitto, `vqi server --mqtt
// --tls-auto`, and two `vqi-agent run --bundle` processes with their own roots and certificates.
// - A model component and a program with a HARD dependency on it, whose run script gets the
//   model's folder through `{com.example.Model:artifacts:path}` → both devices SUCCEEDED, the
//   program wrote what it was given (paths, the model's digest, the configuration).
// - Only the model changes → the agents download exactly the new model's bytes; one of them is
//   offline when the deployment is created and catches up from the retained desired state.
// - A program version whose run fails → FAILED_ROLLBACK_COMPLETE with the reason, and the
//   previous version runs again.
// - Tamper: a model blob changed in the server's store after signing → the deployment fails,
//   nothing of it runs, the status names the blob.
#include "fleet_e2e_harness.h"

namespace vqi::e2e {
namespace {

constexpr const char* kModel = "com.example.Model";
constexpr const char* kProgram = "com.example.Inspect";

std::string ModelRecipe(const std::string& version) {
  return R"({"RecipeFormatVersion": "2020-01-25", "ComponentName": "com.example.Model",
    "ComponentVersion": ")" +
         version + R"(", "ComponentPublisher": "Example",
    "ComponentDescription": "a model: one artifact, no lifecycle",
    "Manifests": [{"Platform": {"os": "linux"}, "Artifacts": [{"Uri": "s3://b/model.onnx"}]}]})";
}

// The program: its run script gets the model's folder, the configured threshold and its work
// folder through recipe variables, and appends one proof line to its work folder per start.
std::string ProgramRecipe(const std::string& version) {
  return R"({"RecipeFormatVersion": "2020-01-25", "ComponentName": "com.example.Inspect",
    "ComponentVersion": ")" +
         version + R"(", "ComponentPublisher": "Example",
    "ComponentDependencies": {"com.example.Model": {"VersionRequirement": ">=1.0.0 <9.0.0",
                                                    "DependencyType": "HARD"}},
    "ComponentConfiguration": {"DefaultConfiguration": {"threshold": 0.5}},
    "Manifests": [{"Platform": {"os": "linux"},
      "Lifecycle": {"run": "sh {artifacts:path}/inspect.sh {com.example.Model:artifacts:path} {configuration:/threshold} {work:path}"},
      "Artifacts": [{"Uri": "s3://b/inspect.sh"}]}]})";
}

std::string GoodScript(const std::string& version) {
  return "#!/bin/sh\n"
         "m=\"$1/model.onnx\"\n"
         "test -r \"$m\" || { echo \"no model at $m\" >&2; exit 4; }\n"
         "echo \"inspect " +
         version +
         " model=$1 sha=$(sha256sum \"$m\" | cut -d' ' -f1) threshold=$2 work=$3 "
         "cwd=$(pwd)\" >> proof.log\n"
         "exec sleep 300\n";
}

std::string FailingScript(const std::string& version) {
  return "#!/bin/sh\necho \"inspect " + version + " failing\" >> proof.log\nexit 3\n";
}

std::string Doc(const std::string& model, const std::string& program) {
  return R"({"deploymentName": "e2e", "components": {
      "com.example.Model": {"componentVersion": ")" +
         model + R"("},
      "com.example.Inspect": {"componentVersion": ")" +
         program + R"(", "configurationUpdate": {"merge": "{\"threshold\":0.7}"}}},
    "deploymentPolicies": {"failureHandlingPolicy": "ROLLBACK"}})";
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    if (nl > pos) out.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return out;
}

class FleetE2eTest : public FleetE2e {
 protected:
  std::string Proof(const Agent& a) { return Slurp(a.root + "/work/" + kProgram + "/proof.log"); }
  // The proof line a correct run of `version` with model `model_version` writes.
  std::string ExpectedProof(const Agent& a, const std::string& version,
                            const std::string& model_version, const std::string& model_bytes) {
    const std::string work = a.root + "/work/" + kProgram;
    return "inspect " + version + " model=" + a.root + "/packages/artifacts/" + kModel + "/" +
           model_version + " sha=" + Sha256Hex(model_bytes) + " threshold=0.7 work=" + work +
           " cwd=" + work;
  }
  // Waits until the last proof line of `a` is `line`.
  bool WaitProof(const Agent& a, const std::string& line, double seconds = 10) {
    return WaitFor(
        [&] {
          auto l = Lines(Proof(a));
          return !l.empty() && l.back() == line;
        },
        seconds);
  }
};

TEST_F(FleetE2eTest, DeployChangeOnlyTheModelAndRollBack) {
  const std::string model1 = Bytes(300000, 1), model2 = Bytes(200003, 2);
  ASSERT_NO_FATAL_FAILURE(Component(ModelRecipe("1.0.0"), {{"model.onnx", model1}}, "m1"));
  ASSERT_NO_FATAL_FAILURE(
      Component(ProgramRecipe("1.0.0"), {{"inspect.sh", GoodScript("1.0.0")}}, "p1"));
  ASSERT_NO_FATAL_FAILURE(StartFleet(2));

  // 1. The two-component set reaches both devices; the program ran with interpolated paths.
  const std::string d1 = Deploy("d1", Doc("1.0.0", "1.0.0"));
  ASSERT_EQ(d1, "dep-1");
  ASSERT_TRUE(WaitDeployment(d1, "SUCCEEDED", 45));
  std::printf("[ e2e ] %s create -> SUCCEEDED on 2 devices: %.2f s\n", d1.c_str(),
              last_wait_seconds_);
  std::map<std::string, int64_t> downloaded;
  for (const Agent& a : agents_) {
    EXPECT_TRUE(WaitProof(a, ExpectedProof(a, "1.0.0", "1.0.0", model1))) << Proof(a);
    const Json s = AgentStatus(a);
    EXPECT_EQ(s["components"][kProgram]["version"], "1.0.0") << s.dump(2);
    EXPECT_EQ(s["components"][kProgram]["state"], "RUNNING") << s.dump(2);
    EXPECT_EQ(s["components"][kModel]["version"], "1.0.0") << s.dump(2);
    downloaded[a.thing] = BytesDownloaded(a);
    // Both artifacts came over the network: the model and the script.
    EXPECT_EQ(downloaded[a.thing], static_cast<int64_t>(model1.size() + GoodScript("1.0.0").size()))
        << s.dump(2);
  }

  // The server shows each device's heartbeat (what runs there) in `vqi thing show`.
  EXPECT_TRUE(WaitFor(
      [&] {
        const CmdResult c = Vqi("thing show cam-1");
        return c.code == 0 &&
               c.out.find(std::string(kProgram) + " 1.0.0 RUNNING") != std::string::npos;
      },
      10))
      << Vqi("thing show cam-1").out;

  // 2. Only the model changes: exactly its new artifact's bytes are downloaded; the program
  //    (HARD dependency) is restarted and sees the new model's folder. cam-2 is offline when
  //    the deployment is created: it catches up from the retained desired state when it comes
  //    back (and its transfer counters survived the restart).
  ASSERT_NO_FATAL_FAILURE(Component(ModelRecipe("1.1.0"), {{"model.onnx", model2}}, "m2"));
  ASSERT_EQ(agents_[1].proc->Stop(20), 0) << agents_[1].proc->Log();
  const std::string d2 = Deploy("d2", Doc("1.1.0", "1.0.0"));
  ASSERT_EQ(d2, "dep-2");
  EXPECT_TRUE(WaitFor(
      [&] {
        auto j = ParseJson(Vqi("deployment status " + d2 + " --json").out, "status");
        if (!j.ok()) return false;
        for (const Json& d : (*j)["devices"])
          if (d.value("thing", "") == agents_[0].thing) return d.value("status", "") == "SUCCEEDED";
        return false;
      },
      45))
      << "the online device finishes without waiting for the offline one";
  std::printf("[ e2e ] %s (model-only change) create -> SUCCEEDED on cam-1: %.2f s\n", d2.c_str(),
              SecondsSince(created_at_));
  ASSERT_NO_FATAL_FAILURE(StartAgent(agents_[1]));
  ASSERT_TRUE(WaitDeployment(d2, "SUCCEEDED", 45));
  std::printf(
      "[ e2e ] %s (model-only change, cam-2 offline until cam-1 finished) create -> "
      "SUCCEEDED on 2 devices: %.2f s\n",
      d2.c_str(), last_wait_seconds_);
  for (const Agent& a : agents_) {
    EXPECT_EQ(BytesDownloaded(a) - downloaded[a.thing], static_cast<int64_t>(model2.size()))
        << AgentStatus(a).dump(2);
    EXPECT_TRUE(WaitProof(a, ExpectedProof(a, "1.0.0", "1.1.0", model2))) << Proof(a);
    EXPECT_EQ(AgentStatus(a)["components"][kModel]["version"], "1.1.0");
  }

  // 3. A program version whose run fails: rolled back, the reason says why, 1.0.0 runs again.
  ASSERT_NO_FATAL_FAILURE(
      Component(ProgramRecipe("2.0.0"), {{"inspect.sh", FailingScript("2.0.0")}}, "p2"));
  const std::string d3 = Deploy("d3", Doc("1.1.0", "2.0.0"));
  ASSERT_EQ(d3, "dep-3");
  Json st;
  ASSERT_TRUE(WaitDeployment(d3, "FAILED_ROLLBACK_COMPLETE", 45, &st));
  for (const Json& d : st["devices"]) {
    const std::string reason = d.value("reason", "");
    std::printf("[ e2e ] %s on %s: %s: %s\n", d3.c_str(), d.value("thing", "").c_str(),
                d.value("status", "").c_str(), reason.c_str());
    EXPECT_NE(reason.find(kProgram), std::string::npos) << reason;
    EXPECT_NE(reason.find("exited with code 3"), std::string::npos) << reason;
  }
  for (const Agent& a : agents_) {
    // 2.0.0 did start (and fail), then the previous version started again after it.
    const std::string again = ExpectedProof(a, "1.0.0", "1.1.0", model2);
    EXPECT_TRUE(WaitFor(
        [&] {
          const std::vector<std::string> l = Lines(Proof(a));
          const auto failed = std::find(l.rbegin(), l.rend(), "inspect 2.0.0 failing");
          return failed != l.rend() && std::find(l.rbegin(), failed, again) != failed;
        },
        10))
        << Proof(a);
    const Json s = AgentStatus(a);
    EXPECT_EQ(s["components"][kProgram]["version"], "1.0.0") << s.dump(2);
    EXPECT_TRUE(WaitFor(
        [&] { return AgentStatus(a)["components"][kProgram].value("state", "") == "RUNNING"; }, 10))
        << AgentStatus(a).dump(2);
    EXPECT_TRUE(a.proc->Alive());
  }
}

TEST_F(FleetE2eTest, ArtifactTamperedOnTheServerIsRefusedAndNothingRuns) {
  const std::string model1 = Bytes(100000, 3), model2 = Bytes(150000, 4);
  ASSERT_NO_FATAL_FAILURE(Component(ModelRecipe("1.0.0"), {{"model.onnx", model1}}, "m1"));
  ASSERT_NO_FATAL_FAILURE(
      Component(ProgramRecipe("1.0.0"), {{"inspect.sh", GoodScript("1.0.0")}}, "p1"));
  ASSERT_NO_FATAL_FAILURE(StartFleet(1));
  const Agent& a = agents_[0];
  const std::string d1 = Deploy("d1", Doc("1.0.0", "1.0.0"));
  ASSERT_TRUE(WaitDeployment(d1, "SUCCEEDED", 45));
  ASSERT_TRUE(WaitProof(a, ExpectedProof(a, "1.0.0", "1.0.0", model1))) << Proof(a);

  // A new model and program, signed; then the model's blob is changed in the server's store.
  ASSERT_NO_FATAL_FAILURE(Component(ModelRecipe("3.0.0"), {{"model.onnx", model2}}, "m3"));
  ASSERT_NO_FATAL_FAILURE(
      Component(ProgramRecipe("3.0.0"), {{"inspect.sh", GoodScript("3.0.0")}}, "p3"));
  const std::string digest = Sha256Hex(model2);
  std::string blob;
  for (const auto& e : fs::recursive_directory_iterator(home_ + "/artifacts"))
    if (e.path().filename().string().rfind(digest, 0) == 0) blob = e.path().string();
  ASSERT_FALSE(blob.empty()) << "no blob " << digest << " under " << home_ << "/artifacts";
  fs::permissions(blob, fs::perms::owner_write, fs::perm_options::add);
  {
    std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(4321);
    f.put(static_cast<char>(model2[4321] ^ 0x20));
  }
  const std::string d2 = Deploy("d2", Doc("3.0.0", "3.0.0"));
  ASSERT_FALSE(d2.empty());
  Json st;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto j = ParseJson(Vqi("deployment status " + d2 + " --json").out, "status");
        if (!j.ok() || (*j)["devices"].empty()) return false;
        st = *j;
        const std::string s = (*j)["devices"][0].value("status", "");
        return s != "QUEUED" && s != "IN_PROGRESS";
      },
      45))
      << st.dump(2);
  const Json& dev = st["devices"][0];
  EXPECT_TRUE(dev["status"] == "FAILED_ROLLBACK_COMPLETE" ||
              dev["status"] == "FAILED_NO_ROLLBACK" || dev["status"] == "REJECTED")
      << st.dump(2);
  const std::string reason = dev.value("reason", "");
  std::printf("[ e2e ] tampered %s: %s: %s\n", d2.c_str(), dev.value("status", "").c_str(),
              reason.c_str());
  EXPECT_NE(reason.find(digest), std::string::npos) << "the reason names the blob: " << reason;
  EXPECT_NE(reason.find("model.onnx"), std::string::npos) << reason;

  // Nothing of 3.0.0 was installed or executed; 1.0.0 still runs with model 1.0.0.
  for (const std::string& line : Lines(Proof(a)))
    EXPECT_EQ(line.find("inspect 3.0.0"), std::string::npos) << Proof(a);
  EXPECT_FALSE(fs::exists(a.root + "/packages/artifacts/" + kModel + "/3.0.0"));
  EXPECT_FALSE(fs::exists(a.root + "/packages/artifacts/" + kProgram + "/3.0.0"));
  EXPECT_FALSE(fs::exists(a.root + "/cache/" + digest)) << "a tampered blob never enters the cache";
  const Json s = AgentStatus(a);
  EXPECT_EQ(s["components"][kProgram]["version"], "1.0.0") << s.dump(2);
  EXPECT_EQ(s["components"][kModel]["version"], "1.0.0") << s.dump(2);
  EXPECT_EQ(Lines(Proof(a)).back(), ExpectedProof(a, "1.0.0", "1.0.0", model1)) << Proof(a);
  EXPECT_TRUE(a.proc->Alive());
}

}  // namespace
}  // namespace vqi::e2e

namespace vqi::e2e {
namespace {

// The control plane restarts: a deployment created while `vqi server` is down is published when
// it comes back; a device's report sent while the server is down reaches it after its restart
// (the broker keeps the server's persistent session). The server is stopped only after the
// device fetched: it also serves the artifacts (a fetch while it is down is retried by the agent).
TEST_F(FleetE2eTest, ServerDownWhileDeploymentsAreCreatedAndReported) {
  const std::string model1 = Bytes(50000, 5), model2 = Bytes(60000, 6), model3 = Bytes(70000, 7);
  ASSERT_NO_FATAL_FAILURE(Component(ModelRecipe("1.0.0"), {{"model.onnx", model1}}, "m1"));
  ASSERT_NO_FATAL_FAILURE(Component(ModelRecipe("1.1.0"), {{"model.onnx", model2}}, "m2"));
  ASSERT_NO_FATAL_FAILURE(Component(ModelRecipe("1.2.0"), {{"model.onnx", model3}}, "m3"));
  ASSERT_NO_FATAL_FAILURE(
      Component(ProgramRecipe("1.0.0"), {{"inspect.sh", GoodScript("1.0.0")}}, "p1"));
  ASSERT_NO_FATAL_FAILURE(StartFleet(1, /*soak=*/"5"));
  const Agent& a = agents_[0];
  ASSERT_TRUE(WaitDeployment(Deploy("d1", Doc("1.0.0", "1.0.0")), "SUCCEEDED", 45));

  // Created while the server is down: published once it is back.
  ASSERT_EQ(server_.Stop(20), 0) << server_.Log();
  const std::string d2 = Deploy("d2", Doc("1.1.0", "1.0.0"));
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_TRUE(WaitDeployment(d2, "SUCCEEDED", 45));
  EXPECT_TRUE(WaitProof(a, ExpectedProof(a, "1.0.0", "1.1.0", model2))) << Proof(a);

  // The server goes down once the device has downloaded the new model (it also serves the
  // artifacts) and before the soak (5 s) ends: the device's SUCCEEDED waits at the broker (the
  // server's persistent session) and is applied after the restart.
  const int64_t bytes = BytesDownloaded(a);
  const std::string d3 = Deploy("d3", Doc("1.2.0", "1.0.0"));
  ASSERT_TRUE(WaitFor(
      [&] { return BytesDownloaded(a) >= bytes + static_cast<int64_t>(model3.size()); }, 20))
      << AgentStatus(a).dump(2);
  ASSERT_EQ(server_.Stop(20), 0) << server_.Log();
  ASSERT_NE(AgentStatus(a)["lastDeployment"].value("deploymentId", ""), d3)
      << "finished before the server was down: the test proves nothing";
  ASSERT_TRUE(
      WaitFor([&] { return AgentStatus(a)["lastDeployment"].value("deploymentId", "") == d3; }, 30))
      << AgentStatus(a).dump(2);
  EXPECT_EQ(AgentStatus(a)["lastDeployment"].value("status", ""), "SUCCEEDED");
  ASSERT_NO_FATAL_FAILURE(StartServer());
  ASSERT_TRUE(WaitDeployment(d3, "SUCCEEDED", 30));
  EXPECT_TRUE(WaitProof(a, ExpectedProof(a, "1.0.0", "1.2.0", model3))) << Proof(a);
}

}  // namespace
}  // namespace vqi::e2e
