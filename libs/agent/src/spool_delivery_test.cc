// The spool against a real Mosquitto (docs/design/ipc.md "Spool"): broker down → kept → broker
// back → all delivered in order and removed only after the PUBACK; an appender killed with
// SIGKILL loses no message it was told was stored.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <set>

#include "mqtt_test_fixture.h"  // libs/transport/src: the CA, identities and broker
#include "vqi/agent/spool.h"
#include "vqi/agent/spool_sender.h"

namespace vqi::agent {
namespace {

using transport::ConnectionState;
using transport::mqtt_testing::Inbox;
namespace topics = transport::topics;

class SpoolDeliveryTest : public transport::mqtt_testing::MqttTest {
 protected:
  SpoolOptions SpoolOpts() {
    SpoolOptions o;
    o.dir = dir_.path() + "/spool";
    return o;
  }
  static int N(const transport::MqttMessage& m) {
    return ParseJson(m.payload).value()["n"].get<int>();
  }
};

TEST_F(SpoolDeliveryTest, BrokerDownMessagesKeptThenAllDeliveredInOrder) {
  Inbox server_inbox;
  auto server = Client(Options("vqi-server"), &server_inbox);
  ASSERT_TRUE(server->Subscribe(topics::AllResults(), 1).ok());
  auto dev = Client(Options("dev-a"));
  auto spool = Spool::Open(SpoolOpts());
  ASSERT_TRUE(spool.ok());
  SpoolSender sender(**spool, *dev, 8);
  const std::string topic = topics::ResultsTopic("dev-a", "com.example.Inspect");

  broker_->Stop();
  for (int i = 0; i < 50 && dev->state() == ConnectionState::kConnected; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::set<std::string> ids;
  for (int i = 0; i < 40; ++i) {
    auto id = (*spool)->Append(topic, "com.example.Inspect", Json{{"n", i}});
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    ids.insert(*id);
    sender.Pump();
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ((*spool)->Stats().messages, 40u);  // nothing acknowledged, nothing removed
  EXPECT_EQ(sender.delivered(), 0u);

  ASSERT_TRUE(broker_->Restart().ok()) << broker_->Log();
  ASSERT_TRUE(dev->WaitConnected(30000).ok()) << broker_->Log();
  sender.Pump();
  auto got = server_inbox.WaitFor(40, 60000);  // bounds, not expectations: CI disks are slow
  ASSERT_EQ(got.size(), 40u) << broker_->Log();
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(N(got[i]), i);
    EXPECT_EQ(ids.count(ParseJson(got[i].payload).value()["vqiMessageId"].get<std::string>()), 1u);
  }
  // Removal follows each PUBACK (one unlink + directory fsync each): seconds on a loaded disk.
  // The sender counts an acknowledgement after the removal: wait for both.
  for (int i = 0; i < 1500 && ((*spool)->Stats().messages > 0 || sender.delivered() < 40); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ((*spool)->Stats().messages, 0u);
  EXPECT_EQ(sender.delivered(), 40u);
}

// A child appends until it is killed with SIGKILL, telling the parent each id Append returned;
// the parent then opens the same spool and sends it: every acknowledged id arrives, in order.
TEST_F(SpoolDeliveryTest, KilledAppenderLosesNothingItAcknowledged) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const SpoolOptions opts = SpoolOpts();
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    auto spool = Spool::Open(opts);
    if (!spool.ok()) ::_exit(2);
    for (int i = 0;; ++i) {
      auto id = (*spool)->Append("vqi/v1/results/dev-a/c", "c", Json{{"n", i}});
      if (!id.ok()) ::_exit(3);
      std::string line = *id + "\n";
      if (::write(fds[1], line.data(), line.size()) < 0) ::_exit(4);
    }
  }
  ::close(fds[1]);
  FILE* in = ::fdopen(fds[0], "r");
  std::vector<std::string> acked;
  char buf[128];
  while (acked.size() < 150 && std::fgets(buf, sizeof buf, in))
    acked.push_back(std::string(buf, std::strlen(buf) - 1));
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  while (std::fgets(buf, sizeof buf, in)) acked.push_back(std::string(buf, std::strlen(buf) - 1));
  std::fclose(in);
  ASSERT_TRUE(WIFSIGNALED(status));
  ASSERT_GE(acked.size(), 150u);

  auto spool = Spool::Open(opts);  // the "restarted agent"
  ASSERT_TRUE(spool.ok()) << spool.status().ToString();
  const size_t stored = (*spool)->Stats().messages;
  EXPECT_GE(stored, acked.size());
  EXPECT_LE(stored, acked.size() + 1);  // at most the one durable before the kill, unreported

  Inbox server_inbox;
  auto server = Client(Options("vqi-server"), &server_inbox);
  ASSERT_TRUE(server->Subscribe(topics::AllResults(), 1).ok());
  auto dev = Client(Options("dev-a"));
  SpoolSender sender(**spool, *dev, 16);
  sender.Pump();
  auto got = server_inbox.WaitFor(stored, 60000);
  ASSERT_EQ(got.size(), stored) << broker_->Log();
  for (size_t i = 0; i < acked.size(); ++i) {
    EXPECT_EQ(ParseJson(got[i].payload).value()["vqiMessageId"], acked[i]);
    EXPECT_EQ(N(got[i]), static_cast<int>(i));
  }
}

}  // namespace
}  // namespace vqi::agent
