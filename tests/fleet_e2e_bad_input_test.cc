// Issue 19, acceptance 5 (bad input) with real processes.
// - At creation: documents that are not JSON, carry an unknown key or value, are oversized, name an
//   unknown target, or whose dependency range nothing satisfies → `vqi deployment create` refuses
//   with the file and the field or the resolver's words, and stores nothing (the cases
//   tests/fleet_cli_test.cc already covers — unknown component or version, merge not a string,
//   conflicts — are not repeated).
// - On the wire: garbage, a depth bomb, an oversized message, a document for another thing, a
//   replay and a stale sequence with other content, published on a running agent's desired
//   topic with the server's identity → ignored, counted and logged; the agent keeps running its
//   set and applies the next valid deployment. Forged status reports to the server change
//   nothing either.
#include <mutex>

#include "fleet_e2e_harness.h"
#include "vqi/transport/mqtt_client.h"
#include "vqi/transport/topics.h"

namespace vqi::e2e {
namespace {

std::string ModelRecipe(const std::string& version) {
  return R"({"RecipeFormatVersion": "2020-01-25", "ComponentName": "com.example.Model",
    "ComponentVersion": ")" +
         version + R"(", "ComponentPublisher": "Example",
    "Manifests": [{"Platform": {"os": "linux"}, "Artifacts": [{"Uri": "s3://b/model.onnx"}]}]})";
}

std::string ProgramRecipe(const std::string& version, const std::string& range) {
  return R"({"RecipeFormatVersion": "2020-01-25", "ComponentName": "com.example.Inspect",
    "ComponentVersion": ")" +
         version + R"(", "ComponentPublisher": "Example",
    "ComponentDependencies": {"com.example.Model": {"VersionRequirement": ")" +
         range + R"(", "DependencyType": "HARD"}},
    "Manifests": [{"Platform": {"os": "linux"},
      "Lifecycle": {"run": "echo \"inspect )" +
         version + R"( model={com.example.Model:artifacts:path}\" >> proof.log; exec sleep 300"},
      "Artifacts": [{"Uri": "s3://b/model.txt"}]}]})";
}

constexpr char kGarbage[] = "\0\x01 this is not JSON {{{";

class FleetE2eBadInputTest : public FleetE2e {
 protected:
  void ExpectRefused(const std::string& tag, const std::string& doc,
                     const std::vector<std::string>& says,
                     const std::string& target = "group:e2e") {
    const std::string path = dir_ + "/bad/" + tag + ".json";
    ASSERT_TRUE(WriteFileAtomic(path, doc).ok());
    const CmdResult c = Vqi("deployment create --target " + target + " --file " + path);
    EXPECT_NE(c.code, 0) << tag << ": " << c.out;
    for (const std::string& s : says)
      EXPECT_NE(c.out.find(s), std::string::npos) << tag << ": the error names '" << s << "':\n"
                                                  << c.out;
  }
};

TEST_F(FleetE2eBadInputTest, DeploymentDocumentsRefusedAtCreationAndNothingStored) {
  ASSERT_NO_FATAL_FAILURE(Component(ModelRecipe("1.0.0"), {{"model.onnx", "m1"}}, "m1"));
  // A program whose dependency range no stored model version satisfies.
  ASSERT_NO_FATAL_FAILURE(Component(ProgramRecipe("1.0.0", "^7.0.0"), {{"model.txt", "p1"}}, "p1"));
  ASSERT_EQ(Vqi("thing create cam-1 --group e2e").code, 0);
  const Json before = JsonOf(Vqi("thing show cam-1 --json"));

  const std::string ok_component =
      R"("components": {"com.example.Model": {"componentVersion": "1.0.0"}})";
  ExpectRefused("truncated", "{" + ok_component, {"truncated.json", "malformed JSON"});
  ExpectRefused("typo", "{" + ok_component + R"(, "deploymentPolicy": {}})",
                {"deploymentPolicy: unknown key", "deploymentPolicies"});
  ExpectRefused(
      "policy",
      "{" + ok_component + R"(, "deploymentPolicies": {"failureHandlingPolicy": "ROLLFORWARD"}})",
      {"deploymentPolicies.failureHandlingPolicy", "ROLLFORWARD"});
  ExpectRefused("version-type", R"({"components": {"com.example.Model": {"componentVersion": 1}}})",
                {"components.com.example.Model.componentVersion"});
  ExpectRefused("oversized",
                "{" + ok_component + R"(, "deploymentName": ")" + std::string(1 << 20, 'x') + "\"}",
                {"ResourceExhausted", "oversized.json", "limit of 1048576 bytes"});
  ExpectRefused("range",
                R"({"components": {"com.example.Inspect": {"componentVersion": "1.0.0"}}})",
                {"com.example.Model", "^7.0.0"});
  ExpectRefused("target", "{" + ok_component + "}", {"NotFound", "cam-404"}, "thing:cam-404");

  // Nothing stored: no deployment, the thing's desired state untouched.
  EXPECT_EQ(JsonOf(Vqi("deployment list --json")).size(), 0u) << Vqi("deployment list").out;
  EXPECT_EQ(JsonOf(Vqi("thing show cam-1 --json")), before);
  // And a good document still goes through.
  const std::string good = Deploy("good", "{" + ok_component + "}");
  EXPECT_EQ(good, "dep-1");
}

TEST_F(FleetE2eBadInputTest, HostileDesiredMessagesAreIgnoredAndTheAgentKeepsWorking) {
  ASSERT_NO_FATAL_FAILURE(Component(ModelRecipe("1.0.0"), {{"model.onnx", Bytes(5000, 1)}}, "m1"));
  ASSERT_NO_FATAL_FAILURE(Component(ModelRecipe("1.1.0"), {{"model.onnx", Bytes(6000, 2)}}, "m2"));
  ASSERT_NO_FATAL_FAILURE(Component(ProgramRecipe("1.0.0", "^1.0.0"), {{"model.txt", "p1"}}, "p1"));
  ASSERT_NO_FATAL_FAILURE(StartFleet(1));
  Agent& a = agents_[0];
  const std::string proof_path = a.root + "/work/com.example.Inspect/proof.log";
  const std::string d1 = Deploy("d1", R"({"components": {
      "com.example.Model": {"componentVersion": "1.0.0"},
      "com.example.Inspect": {"componentVersion": "1.0.0"}}})");
  ASSERT_TRUE(WaitDeployment(d1, "SUCCEEDED", 45));
  ASSERT_TRUE(WaitFor([&] { return !Slurp(proof_path).empty(); }, 10));

  // A client with the server's identity (the only one the ACL lets publish desired states).
  transport::MqttOptions o;
  o.port = broker_port_;
  o.client_id = "e2e-injector";
  o.ca_file = home_ + "/pki/ca.pem";
  o.cert_file = home_ + "/pki/identities/vqi-server.pem";
  o.key_file = home_ + "/pki/identities/vqi-server.key";
  o.clean_session = true;
  o.max_payload_bytes = 4 << 20;
  auto client = transport::MqttClient::Create(o);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  std::mutex mu;
  std::string retained;
  (*client)->OnMessage([&](const transport::MqttMessage& m) {
    std::lock_guard<std::mutex> lock(mu);
    if (m.retained) retained = m.payload;
    return Status::Ok();
  });
  ASSERT_TRUE((*client)->Connect().ok());
  ASSERT_TRUE((*client)->WaitConnected(10000).ok());
  const std::string topic = transport::topics::DesiredTopic(a.thing);
  ASSERT_TRUE((*client)->Subscribe(topic).ok());
  ASSERT_TRUE(WaitFor(
      [&] {
        std::lock_guard<std::mutex> lock(mu);
        return !retained.empty();
      },
      10))
      << "no retained desired state on " << topic;
  Json current;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto j = ParseJson(retained, "retained desired state");
    ASSERT_TRUE(j.ok()) << retained;
    current = *j;
  }
  ASSERT_EQ(current["deploymentId"], d1) << current.dump();
  const int64_t seq = current["sequence"];

  const Json before = AgentStatus(a);
  const int64_t rejected_before = before.value("rejectedMessages", int64_t{0});
  const std::string proof_before = Slurp(proof_path);

  // Each would change the running set if the agent took it.
  Json other = current;
  other["thing"] = "cam-2";
  other["sequence"] = seq + 100;
  other["deploymentId"] = "dep-evil";
  other["components"]["com.example.Model"]["version"] = "1.1.0";
  Json stale = current;
  stale["deploymentId"] = "dep-evil";
  stale["components"]["com.example.Model"]["version"] = "1.1.0";  // same sequence, other content
  Json zero = stale;
  zero["sequence"] = 0;  // below every valid sequence (the schema starts at 1)
  Json unknown_key = current;
  unknown_key["sequence"] = seq + 100;
  unknown_key["components"]["com.example.Model"]["version"] = "1.1.0";
  unknown_key["runEverything"] = true;
  const std::vector<std::pair<std::string, std::string>> hostile = {
      {"garbage", std::string(kGarbage, sizeof kGarbage - 1)},
      {"depth bomb", std::string(100000, '[')},
      {"wrong schema", R"({"schema": "vqi-desired/99", "thing": ")" + a.thing + R"("})"},
      {"unknown key", unknown_key.dump()},
      {"another thing's document", other.dump()},
      {"replay", current.dump()},
      {"same sequence, other content", stale.dump()},
      {"sequence 0", zero.dump()},
  };
  for (const auto& [what, payload] : hostile)
    ASSERT_TRUE((*client)->Publish(topic, payload, 1, /*retain=*/false).ok()) << what;
  // Oversized: larger than the device accepts (1 MiB), a valid document underneath.
  Json big = unknown_key;
  big.erase("runEverything");
  big["deploymentId"] = std::string(1536 * 1024, 'x');
  ASSERT_TRUE((*client)->Publish(topic, big.dump(), 1, false).ok());
  // Forged status reports on the device's status topic: garbage, and a terminal dep-1 turned
  // into a failure with a far-ahead sequence. The server refuses both.
  const std::string status_topic = transport::topics::StatusTopic(a.thing);
  ASSERT_TRUE((*client)->Publish(status_topic, "{\"schema\": 42", 1, false).ok());
  const Json forged = {{"schema", "vqi-status/1"},
                       {"thing", a.thing},
                       {"deploymentId", d1},
                       {"sequence", 1000000},
                       {"status", "FAILED_NO_ROLLBACK"},
                       {"reason", "forged"},
                       {"components", Json::object()},
                       {"at", "2026-12-06T10:00:00Z"}};
  ASSERT_TRUE((*client)->Publish(status_topic, forged.dump(), 1, false).ok());
  ASSERT_TRUE((*client)->Disconnect(5000).ok());

  // Every one is counted as rejected, by kind, and logged with the reason.
  const int64_t total = static_cast<int64_t>(hostile.size()) + 1;
  EXPECT_TRUE(WaitFor(
      [&] {
        return AgentStatus(a).value("rejectedMessages", int64_t{0}) - rejected_before >= total;
      },
      10))
      << AgentStatus(a).dump(2) << "\n"
      << Tail(a.proc->Log(), 4000);
  const Json net = AgentStatus(a)["network"];
  EXPECT_EQ(AgentStatus(a).value("rejectedMessages", int64_t{0}) - rejected_before, total)
      << net.dump(2);
  // garbage: not JSON, wrong schema, unknown key, sequence 0; oversized: the depth bomb (a
  // resource limit of the parser) and the 1.5 MiB document.
  EXPECT_EQ(net["rejected"].value("garbage", 0), 4) << net.dump(2);
  EXPECT_EQ(net["rejected"].value("otherThing", 0), 1) << net.dump(2);
  EXPECT_EQ(net["rejected"].value("replayed", 0), 2) << net.dump(2);
  EXPECT_EQ(net["rejected"].value("oversized", 0), 2) << net.dump(2);
  const std::string log = a.proc->Log();
  EXPECT_NE(log.find("is not above the last accepted " + std::to_string(seq)), std::string::npos)
      << Tail(log, 4000);
  EXPECT_NE(log.find("thing: 'cam-2' is not this device ('cam-1')"), std::string::npos)
      << Tail(log, 4000);
  EXPECT_NE(log.find("more than the maximum of 1048576"), std::string::npos) << Tail(log, 4000);
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // anything applied would show
  ASSERT_TRUE(a.proc->Alive()) << a.proc->Log();
  const Json after = AgentStatus(a);
  EXPECT_EQ(after["deploymentId"], d1) << after.dump(2);
  EXPECT_EQ(after["components"]["com.example.Model"]["version"], "1.0.0") << after.dump(2);
  EXPECT_EQ(after["components"]["com.example.Inspect"]["state"], "RUNNING") << after.dump(2);
  EXPECT_EQ(Slurp(proof_path), proof_before) << "the program was not restarted";
  EXPECT_FALSE(fs::exists(a.root + "/packages/artifacts/com.example.Model/1.1.0"));
  // The server's record of dep-1 is unchanged, and it keeps running.
  Json st;
  ASSERT_TRUE(WaitDeployment(d1, "SUCCEEDED", 5, &st));
  EXPECT_EQ(st["devices"][0].value("reason", ""), "") << st.dump(2);
  EXPECT_TRUE(server_.Alive()) << Tail(server_.Log(), 4000);
  EXPECT_TRUE(WaitFor(
      [&] {
        const std::string log = server_.Log();
        return log.find("status report from " + a.thing + " refused") != std::string::npos &&
               log.find("for " + d1 + " (FAILED_NO_ROLLBACK, already SUCCEEDED)") !=
                   std::string::npos;
      },
      5))
      << "the server logs both forged reports:\n"
      << Tail(server_.Log(), 4000);

  // The next valid deployment is applied.
  const std::string d2 = Deploy("d2", R"({"components": {
      "com.example.Model": {"componentVersion": "1.1.0"},
      "com.example.Inspect": {"componentVersion": "1.0.0"}}})");
  ASSERT_TRUE(WaitDeployment(d2, "SUCCEEDED", 45));
  EXPECT_TRUE(WaitFor(
      [&] {
        return Slurp(proof_path)
                   .find("model=" + a.root + "/packages/artifacts/com.example.Model/1.1.0") !=
               std::string::npos;
      },
      10))
      << Slurp(proof_path);
  EXPECT_TRUE(a.proc->Alive());
}

}  // namespace
}  // namespace vqi::e2e
