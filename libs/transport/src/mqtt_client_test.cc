// MqttClient against a real Mosquitto with real TLS: QoS 1, retained state, persistent
// sessions, the bounded offline queue, receive limits, reconnects, option checks.
#include "vqi/transport/mqtt_client.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "mqtt_test_fixture.h"
#include "vqi/pki/pki.h"
#include "vqi/transport/topics.h"

namespace vqi::transport {
namespace {

using namespace mqtt_testing;  // NOLINT: the shared fixture

TEST_F(MqttTest, DevicePublishesStatusAndTheServerReceivesItWithQos1) {
  Inbox server_inbox;
  auto server = Client(Options("vqi-server"), &server_inbox);
  ASSERT_TRUE(server->Subscribe(topics::AllStatus(), 1).ok());
  auto dev = Client(Options("dev-a"));
  ASSERT_TRUE(dev->Publish(topics::StatusTopic("dev-a"), R"({"status":"SUCCEEDED"})").ok());
  auto got = server_inbox.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].topic, "vqi/v1/things/dev-a/status");
  EXPECT_EQ(got[0].payload, R"({"status":"SUCCEEDED"})");
  EXPECT_EQ(got[0].qos, 1);
  EXPECT_TRUE(dev->Disconnect(2000).ok());  // the PUBACK came back
  EXPECT_EQ(dev->Stats().published, 1u);
  EXPECT_EQ(dev->state(), ConnectionState::kStopped);
}

TEST_F(MqttTest, RetainedDesiredStateReachesADeviceThatConnectsLater) {
  auto server = Client(Options("vqi-server"));
  ASSERT_TRUE(server->Publish(topics::DesiredTopic("dev-a"), R"({"sequence":7})", 1, true).ok());
  ASSERT_TRUE(server->Disconnect(2000).ok());
  Inbox inbox;
  auto dev = Client(Options("dev-a"), &inbox);
  ASSERT_TRUE(dev->Subscribe(topics::DesiredTopic("dev-a"), 1).ok());
  auto got = inbox.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, R"({"sequence":7})");
  EXPECT_TRUE(got[0].retained);
}

TEST_F(MqttTest, PersistentSessionDeliversWhatWasPublishedWhileTheDeviceWasOffline) {
  {
    auto dev = Client(Options("dev-a"));
    ASSERT_TRUE(dev->Subscribe(topics::DesiredTopic("dev-a"), 1).ok());
    ASSERT_TRUE(dev->Disconnect().ok());
  }
  auto server = Client(Options("vqi-server"));
  ASSERT_TRUE(server->Publish(topics::DesiredTopic("dev-a"), "offline-1").ok());
  ASSERT_TRUE(server->Publish(topics::DesiredTopic("dev-a"), "offline-2").ok());
  ASSERT_TRUE(server->Disconnect(2000).ok());
  // The broker restarts in between: the session and its queue survive (persistence true).
  ASSERT_TRUE(broker_->Restart().ok()) << broker_->Log();
  Inbox inbox;
  auto dev = Client(Options("dev-a"), &inbox);  // no Subscribe: the session has it
  auto got = inbox.WaitFor(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].payload, "offline-1");
  EXPECT_EQ(got[1].payload, "offline-2");
  EXPECT_FALSE(got[0].retained);
}

TEST_F(MqttTest, OversizedAndGarbageMessagesAreCountedAndDropped) {
  Inbox inbox;
  MqttOptions o = Options("dev-a");
  o.max_payload_bytes = 1024;
  auto dev = Client(o, nullptr, false);
  dev->OnMessage(inbox.Handler([](const MqttMessage& m) {
    return !m.payload.empty() && m.payload[0] == '{' ? Status::Ok()
                                                     : InvalidArgument("not a JSON object");
  }));
  ASSERT_TRUE(dev->Connect().ok());
  ASSERT_TRUE(dev->WaitConnected(5000).ok());
  ASSERT_TRUE(dev->Subscribe(topics::DesiredTopic("dev-a"), 1).ok());
  auto server = Client(Options("vqi-server"));
  const std::string desired = topics::DesiredTopic("dev-a");
  ASSERT_TRUE(server->Publish(desired, "{" + std::string(2000, 'x') + "}").ok());
  ASSERT_TRUE(server->Publish(desired, std::string("\xff\x00garbage", 9)).ok());
  ASSERT_TRUE(server->Publish(desired, R"({"sequence":1})").ok());
  auto got = inbox.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, R"({"sequence":1})");
  // The counters move right after the handler returns.
  for (int i = 0; i < 100 && dev->Stats().received == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  MqttStats stats = dev->Stats();
  EXPECT_EQ(stats.dropped_oversized, 1u);
  EXPECT_EQ(stats.rejected, 1u);
  EXPECT_EQ(stats.received, 1u);
  EXPECT_EQ(dev->state(), ConnectionState::kConnected);
  // Publishing more than the limit is refused up front.
  EXPECT_EQ(dev->Publish(topics::StatusTopic("dev-a"), std::string(1025, 'x')).code(),
            StatusCode::kResourceExhausted);
}

TEST_F(MqttTest, OfflineQueueIsBoundedAndDeliveredOnConnect) {
  Inbox server_inbox;
  auto server = Client(Options("vqi-server"), &server_inbox);
  ASSERT_TRUE(server->Subscribe(topics::AllHealth(), 1).ok());
  MqttOptions o = Options("dev-a");
  o.max_queued = 3;
  auto dev = Client(o, nullptr, /*connect=*/false);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(dev->Publish(topics::HealthTopic("dev-a"), "beat-" + std::to_string(i)).ok());
  Status full = dev->Publish(topics::HealthTopic("dev-a"), "beat-3");
  EXPECT_EQ(full.code(), StatusCode::kResourceExhausted) << full.ToString();
  EXPECT_EQ(dev->Stats().queued, 3u);
  ASSERT_TRUE(dev->Connect().ok());
  auto got = server_inbox.WaitFor(3);
  ASSERT_EQ(got.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(got[i].payload, "beat-" + std::to_string(i));
  EXPECT_TRUE(dev->Disconnect(2000).ok());
  EXPECT_EQ(dev->Stats().queued, 0u);
}

TEST_F(MqttTest, ClientsReconnectByThemselvesAndNothingPublishedMeanwhileIsLost) {
  Inbox server_inbox;
  std::mutex mu;  // before the clients: their threads call the handler
  std::vector<ConnectionState> states;
  std::vector<Status> errors;
  auto server = Client(Options("vqi-server"), &server_inbox);
  ASSERT_TRUE(server->Subscribe(topics::AllHealth(), 1).ok());
  auto dev = Client(Options("dev-a"), nullptr, false);
  dev->OnState([&](ConnectionState s, const Status& e) {
    std::lock_guard lock(mu);
    states.push_back(s);
    if (!e.ok()) errors.push_back(e);
  });
  ASSERT_TRUE(dev->Connect().ok());
  ASSERT_TRUE(dev->WaitConnected(5000).ok());

  broker_->Stop();
  for (int i = 0; i < 50 && dev->state() == ConnectionState::kConnected; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_NE(dev->state(), ConnectionState::kConnected);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(dev->Publish(topics::HealthTopic("dev-a"), "beat-" + std::to_string(i)).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a few failed attempts
  ASSERT_TRUE(broker_->Restart().ok()) << broker_->Log();

  Status up = dev->WaitConnected(5000);
  ASSERT_TRUE(up.ok()) << up.ToString() << "\n" << broker_->Log();
  ASSERT_TRUE(server->WaitConnected(5000).ok());
  auto got = server_inbox.WaitFor(3);  // the server's session kept its subscription
  ASSERT_EQ(got.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(got[i].payload, "beat-" + std::to_string(i));
  EXPECT_EQ(dev->Stats().connects, 2u);
  std::lock_guard lock(mu);
  ASSERT_FALSE(errors.empty());
  // Lost, then refused while the broker was down: each attempt failed fast with a reason.
  for (const Status& e : errors) EXPECT_EQ(e.code(), StatusCode::kUnavailable) << e.ToString();
  EXPECT_NE(std::find(states.begin(), states.end(), ConnectionState::kReconnecting), states.end());
  EXPECT_EQ(states.back(), ConnectionState::kConnected);
}

// Issue 20 (the agent's spool): the completion callback runs once the broker acknowledged the
// message, not when it was queued offline.
TEST_F(MqttTest, PublishWithAckCallsBackOnlyAfterThePuback) {
  auto dev = Client(Options("dev-a"));
  broker_->Stop();
  for (int i = 0; i < 50 && dev->state() == ConnectionState::kConnected; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::atomic<int> acked{0};
  ASSERT_TRUE(dev->Publish(topics::HealthTopic("dev-a"), "x", 1, false, [&] { ++acked; }).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(acked.load(), 0);
  ASSERT_TRUE(broker_->Restart().ok()) << broker_->Log();
  ASSERT_TRUE(dev->WaitConnected(5000).ok());
  for (int i = 0; i < 250 && acked.load() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(acked.load(), 1);
  EXPECT_EQ(dev->Publish(topics::HealthTopic("dev-a"), "x", 0, false, [] {}).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(MqttTest, BadOptionsAreRefused) {
  MqttOptions o = Options("dev-a");
  o.client_id = "dev/+";
  EXPECT_EQ(MqttClient::Create(o).status().code(), StatusCode::kInvalidArgument);
  o = Options("dev-a");
  o.cert_file = dir_.path() + "/missing.pem";
  EXPECT_EQ(MqttClient::Create(o).status().code(), StatusCode::kNotFound);
  o = Options("dev-a");
  o.port = 0;
  EXPECT_EQ(MqttClient::Create(o).status().code(), StatusCode::kInvalidArgument);
  auto c = MqttClient::Create(Options("dev-a"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->Publish("vqi/+/x", "p").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*c)->Publish("", "p").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vqi::transport
