// Issue 20 through the real processes (docs/design/ipc.md): `vqi-agent run --bundle`, a real
// Mosquitto, a component publishing results with `vqi-ipc` while the broker is down, the agent
// killed with SIGKILL with the results spooled, then broker and agent back: every result the
// component was told was stored arrives, in order, with the id it was given.
#include "agent_net_env.h"

namespace vqi::agent_test {
namespace {

using fleet::DeviceStatus;
constexpr int kResults = 25;

class AgentIpcNetTest : public AgentNetEnv {};

TEST_F(AgentIpcNetTest, ResultsSpooledDuringOutageSurviveKill9AndArriveInOrder) {
  const std::string ipc = VQI_IPC_BIN;
  const std::string topic = transport::topics::ResultsTopic(kThing, "com.ex.Pub");
  // Waits for `go`, removes it (a restarted component does not publish again), publishes.
  const std::string run =
      "while [ ! -e go ]; do sleep 0.05; done; rm go; i=0; while [ $i -lt " +
      std::to_string(kResults) + " ]; do " + ipc + " publish " + topic +
      " \\\"{\\\\\\\"n\\\\\\\": $i}\\\" >>ids.txt || exit 1; i=$((i+1)); done; exec sleep 1000";
  Component("com.ex.Pub", "1.0.0", {}, R"({"run": ")" + run + R"("})",
            R"("ComponentConfiguration": {"DefaultConfiguration": {"accessControl": {
                 "aws.greengrass.ipc.mqttproxy": {"com.ex.Pub:mqttproxy:1": {
                   "operations": ["aws.greengrass#PublishToIoTCore"],
                   "resources": ["vqi/v1/results/+/com.ex.Pub"]}}}}},)");
  StartFleet();
  ASSERT_TRUE(server_mqtt_->Subscribe(transport::topics::AllResults()).ok());
  StartAgent();
  Desired(State("dep-1", 1, {{"com.ex.Pub", "1.0.0"}}));
  ASSERT_TRUE(received_.WaitReport(kThing, "dep-1", DeviceStatus::kSucceeded, 30))
      << Slurp(h_.dir() + "/agent.log");

  broker_->Stop();
  const std::string work = h_.root() + "/work/com.ex.Pub";
  Write(work + "/go", "");
  ASSERT_TRUE(WaitFor(
      [&] {
        const std::string ids = Slurp(work + "/ids.txt");
        return std::count(ids.begin(), ids.end(), '\n') == kResults;
      },
      30))
      << Slurp(h_.root() + "/logs/com.ex.Pub.log") << Slurp(h_.dir() + "/agent.log");
  h_.Kill9();  // with every result in the spool, the broker away
  size_t spooled = 0;
  for (const auto& e : fs::directory_iterator(h_.root() + "/spool"))
    spooled += e.path().extension() == ".msg";
  EXPECT_EQ(spooled, static_cast<size_t>(kResults));
  EXPECT_TRUE(received_.On(topic).empty());

  EXPECT_EQ(h_.Status()["spool"].value("messages", -1), kResults);  // vqi-agent status --json
  ASSERT_TRUE(broker_->Restart().ok()) << broker_->Log();
  ASSERT_TRUE(server_mqtt_->WaitConnected(10000).ok());
  ASSERT_TRUE(server_mqtt_->Subscribe(transport::topics::AllResults()).ok());
  StartAgent();
  ASSERT_TRUE(WaitFor([&] { return received_.On(topic).size() >= kResults; }, 30))
      << received_.On(topic).size() << "\n"
      << Slurp(h_.dir() + "/agent.log");
  const std::string ids = Slurp(work + "/ids.txt");
  std::vector<std::string> want;
  for (size_t at = 0, nl; (nl = ids.find('\n', at)) != std::string::npos; at = nl + 1)
    want.push_back(ids.substr(at, nl - at));
  auto got = received_.On(topic);
  ASSERT_EQ(got.size(), static_cast<size_t>(kResults));  // none lost, none repeated
  for (int i = 0; i < kResults; ++i) {
    auto body = ParseJson(got[i].payload);
    ASSERT_TRUE(body.ok()) << got[i].payload;
    EXPECT_EQ((*body)["n"], i);
    EXPECT_EQ((*body)["vqiMessageId"], want[i]);
  }
  EXPECT_TRUE(WaitFor(
      [&] {
        size_t left = 0;
        for (const auto& e : fs::directory_iterator(h_.root() + "/spool"))
          left += e.path().extension() == ".msg";
        return left == 0;
      },
      10));
  EXPECT_EQ(h_.Stop(), 0);
}

// A component's own UpdateState (ERRORED) shows in `vqi-agent status` and the next heartbeat;
// once a deployment removes the component, its token is refused (IpcServer::Unregister).
TEST_F(AgentIpcNetTest, ReportedErroredIsShownAndARemovedComponentsTokenIsRefused) {
  const std::string ipc = VQI_IPC_BIN;
  // Reports RUNNING, keeps its token for the test, reports ERRORED when told to, runs on.
  const std::string run = "echo $SVCUID > token; " + ipc +
                          " state RUNNING || exit 1; while [ ! -e bad ]; do sleep 0.05; done; " +
                          ipc + " state ERRORED || exit 1; exec sleep 1000";
  Component("com.ex.Sick", "1.0.0", {}, R"({"run": ")" + run + R"("})");
  Component("com.ex.Other", "1.0.0", {}, R"({"run": "exec sleep 1000"})");
  StartFleet();
  StartAgent();
  Desired(State("dep-1", 1, {{"com.ex.Sick", "1.0.0"}}));
  ASSERT_TRUE(received_.WaitReport(kThing, "dep-1", DeviceStatus::kSucceeded, 30))
      << Slurp(h_.dir() + "/agent.log");
  const std::string work = h_.root() + "/work/com.ex.Sick";
  auto state = [&] { return h_.Status()["components"]["com.ex.Sick"].value("state", ""); };
  EXPECT_EQ(state(), "RUNNING");
  Write(work + "/bad", "");
  ASSERT_TRUE(WaitFor([&] { return state() == "ERRORED"; }, 10))
      << h_.Status().dump() << Slurp(h_.root() + "/logs/com.ex.Sick.log");
  EXPECT_EQ(h_.Status()["components"]["com.ex.Sick"].value("reason", ""),
            "com.ex.Sick reported ERRORED over the IPC");
  const size_t before = received_.Heartbeats(kThing).size();
  ASSERT_TRUE(WaitFor(
      [&] {
        auto hb = received_.Heartbeats(kThing);
        return hb.size() > before &&
               hb.back()["components"]["com.ex.Sick"].value("state", "") == "ERRORED";
      },
      10))
      << received_.Heartbeats(kThing).back().dump();

  const std::string token = Slurp(work + "/token").substr(0, 64);
  ASSERT_EQ(token.size(), 64u);
  const std::string as_sick =
      "SVCUID=" + token + " VQI_IPC_SOCKET=" + h_.root() + "/ipc.socket " + ipc + " state RUNNING";
  EXPECT_EQ(Sh(as_sick).code, 0);  // still deployed: the token works
  Desired(State("dep-2", 2, {{"com.ex.Other", "1.0.0"}}));
  ASSERT_TRUE(received_.WaitReport(kThing, "dep-2", DeviceStatus::kSucceeded, 30))
      << Slurp(h_.dir() + "/agent.log");
  const Cmd refused = Sh(as_sick);
  EXPECT_EQ(refused.code, 1) << refused.out;
  EXPECT_NE(refused.out.find("PermissionDenied"), std::string::npos) << refused.out;
  EXPECT_EQ(h_.Stop(), 0);
}

}  // namespace
}  // namespace vqi::agent_test
