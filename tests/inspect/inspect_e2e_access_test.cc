// Issue 20, acceptance 6 through the real agent (`vqi-agent run --bundle`, a real broker): two
// script components use `vqi-ipc` (shipped as their artifact) from their run step. The one
// whose configuration has no `accessControl` grant is refused a cloud publish and reading the
// other's configuration (PermissionDenied naming what was asked) — and nothing of it reaches an
// independent subscriber; it still reads its own configuration. The one with the grants
// (mqttproxy PublishToIoTCore on its results topic, vqi.ipc.config GetConfiguration on the
// other) does both, so the refusals are the grants' doing, not a broken path.
#include "inspect_e2e_harness.h"

namespace vqi::e2e {
namespace {

constexpr const char* kGranted = "com.example.Granted";
constexpr const char* kNoGrant = "com.example.NoGrant";

// Run by both components: $1 vqi-ipc, $2 thing, $3 own name, $4 the other component. Each
// attempt's exit code, stdout and stderr go to the work folder; `done` last.
constexpr const char* kProbe = R"(#!/bin/sh
ipc="$1"
"$ipc" publish "vqi/v1/results/$2/$3" "{\"from\": \"$3\"}" > publish.out 2> publish.err
echo $? > publish.rc
"$ipc" get-config --component "$4" > other.out 2> other.err
echo $? > other.rc
"$ipc" get-config > own.out 2> own.err
echo $? > own.rc
touch done
exec sleep 300
)";

std::string ProbeRecipe(const std::string& name, const std::string& other, const Json& access) {
  Json config = {{"secret", name + "-secret"}};
  if (!access.is_null()) config["accessControl"] = access;
  const Json recipe = {
      {"RecipeFormatVersion", "2020-01-25"},
      {"ComponentName", name},
      {"ComponentVersion", "1.0.0"},
      {"ComponentPublisher", "e2e"},
      {"ComponentConfiguration", {{"DefaultConfiguration", config}}},
      {"Manifests",
       {{{"Platform", {{"os", "linux"}}},
         {"Lifecycle",
          {{"run", "sh {artifacts:path}/probe.sh {artifacts:path}/vqi-ipc {iot:thingName} " + name +
                       " " + other}}},
         {"Artifacts",
          {{{"Uri", "s3://b/probe.sh"}},
           {{"Uri", "s3://b/vqi-ipc"}, {"Permission", {{"Execute", "OWNER"}}}}}}}}}};
  return recipe.dump();
}

class InspectE2eAccessTest : public InspectE2e {
 protected:
  std::string Work(const Agent& a, const std::string& component, const std::string& file) {
    return Slurp(a.root + "/work/" + component + "/" + file);
  }
};

TEST_F(InspectE2eAccessTest, NoGrantNoCloudPublishNoOtherConfiguration) {
  const std::string ipc = Slurp(VQI_IPC_BIN);
  ASSERT_FALSE(ipc.empty()) << VQI_IPC_BIN;
  const Json grants = {
      {"aws.greengrass.ipc.mqttproxy",
       {{"e2e:mqttproxy:1",
         {{"operations", {"aws.greengrass#PublishToIoTCore"}},
          {"resources", {std::string("vqi/v1/results/+/") + kGranted}}}}}},
      {"vqi.ipc.config",
       {{"e2e:config:1", {{"operations", {"vqi#GetConfiguration"}}, {"resources", {kNoGrant}}}}}}};
  ASSERT_NO_FATAL_FAILURE(Component(ProbeRecipe(kGranted, kNoGrant, grants),
                                    {{"probe.sh", kProbe}, {"vqi-ipc", ipc}}, "granted"));
  ASSERT_NO_FATAL_FAILURE(Component(ProbeRecipe(kNoGrant, kGranted, Json()),
                                    {{"probe.sh", kProbe}, {"vqi-ipc", ipc}}, "nogrant"));
  ASSERT_NO_FATAL_FAILURE(StartFleet(1));
  ASSERT_NO_FATAL_FAILURE(StartSubscriber());
  const Agent& a = agents_[0];
  const std::string d = Deploy("d1", R"({"components": {
      "com.example.Granted": {"componentVersion": "1.0.0"},
      "com.example.NoGrant": {"componentVersion": "1.0.0"}}})");
  ASSERT_TRUE(WaitDeployment(d, "SUCCEEDED", 45));
  ASSERT_TRUE(WaitFor(
      [&] {
        return fs::exists(a.root + "/work/" + kGranted + "/done") &&
               fs::exists(a.root + "/work/" + kNoGrant + "/done");
      },
      20));

  // Without the grant: both refused, naming the service, the operation and what was asked.
  EXPECT_EQ(Work(a, kNoGrant, "publish.rc"), "1\n");
  const std::string pub = Work(a, kNoGrant, "publish.err");
  EXPECT_NE(pub.find("PermissionDenied"), std::string::npos) << pub;
  EXPECT_NE(pub.find("aws.greengrass#PublishToIoTCore"), std::string::npos) << pub;
  EXPECT_NE(pub.find(std::string("vqi/v1/results/cam-1/") + kNoGrant), std::string::npos) << pub;
  EXPECT_EQ(Work(a, kNoGrant, "publish.out"), "") << "no message id for a refused publish";
  EXPECT_EQ(Work(a, kNoGrant, "other.rc"), "1\n");
  const std::string other = Work(a, kNoGrant, "other.err");
  EXPECT_NE(other.find("PermissionDenied"), std::string::npos) << other;
  EXPECT_NE(other.find("vqi#GetConfiguration"), std::string::npos) << other;
  EXPECT_NE(other.find(kGranted), std::string::npos) << other;
  EXPECT_EQ(Work(a, kNoGrant, "other.out").find("secret"), std::string::npos);
  std::printf("[ e2e ] %s refused: %s         %s", kNoGrant, pub.c_str(), other.c_str());
  // Its own configuration needs no grant.
  EXPECT_EQ(Work(a, kNoGrant, "own.rc"), "0\n") << Work(a, kNoGrant, "own.err");
  EXPECT_NE(Work(a, kNoGrant, "own.out").find("com.example.NoGrant-secret"), std::string::npos);

  // With the grants: the same calls succeed.
  EXPECT_EQ(Work(a, kGranted, "publish.rc"), "0\n") << Work(a, kGranted, "publish.err");
  EXPECT_EQ(Work(a, kGranted, "other.rc"), "0\n") << Work(a, kGranted, "other.err");
  EXPECT_NE(Work(a, kGranted, "other.out").find("com.example.NoGrant-secret"), std::string::npos)
      << Work(a, kGranted, "other.out");

  // The subscriber gets the granted component's message and never the other's (both were
  // published at the same moment; a second more for a straggler).
  const std::string granted_topic = std::string("vqi/v1/results/cam-1/") + kGranted;
  ASSERT_TRUE(WaitFor(
      [&] {
        for (const Message& m : Messages())
          if (m.topic == granted_topic) return true;
        return false;
      },
      15));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const std::vector<Message> got = Messages();
  ASSERT_EQ(got.size(), 1u) << sub_.Log();
  EXPECT_EQ(got[0].payload.value("from", ""), kGranted);
  EXPECT_EQ(
      got[0].payload.value("vqiMessageId", ""),
      Work(a, kGranted, "publish.out").substr(0, Work(a, kGranted, "publish.out").find('\n')));
  // The agent kept running both components.
  const Json s = AgentStatus(a);
  EXPECT_EQ(s["components"][kNoGrant].value("state", ""), "RUNNING") << s.dump(2);
  EXPECT_TRUE(a.proc->Alive());
}

}  // namespace
}  // namespace vqi::e2e
