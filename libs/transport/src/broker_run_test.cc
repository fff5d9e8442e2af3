// RunBroker with a real Mosquitto: restart on a CRL change (bursts shared) and after a crash,
// failing restarts back off, one broker per home, a failed first start, a clean stop.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include "broker_service_test_fixture.h"
#include "vqi/base/file.h"
#include "vqi/base/testing/free_port.h"
#include "vqi/pki/pki.h"

namespace vqi::transport {
namespace {

int FreePort() { return vqi::testing::FreeLoopbackPort(); }

// Events the supervisor reported, for waiting on from the test thread.
class Events {
 public:
  void Add(const std::string& e) {
    std::lock_guard lock(mu_);
    all_ += e + "\n";
  }
  // Waits until `needle` occurs `n` times; returns everything so far.
  bool WaitFor(const std::string& needle, int n = 1, int timeout_ms = 10000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Count(needle) >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  int Count(const std::string& needle) {
    std::lock_guard lock(mu_);
    int k = 0;
    for (size_t at = all_.find(needle); at != std::string::npos; at = all_.find(needle, at + 1))
      ++k;
    return k;
  }
  std::string All() {
    std::lock_guard lock(mu_);
    return all_;
  }
  // The pid in the last "(pid N)".
  pid_t LastPid() {
    std::lock_guard lock(mu_);
    const size_t at = all_.rfind("(pid ");
    return at == std::string::npos ? -1 : std::atoi(all_.c_str() + at + 5);
  }

 private:
  std::mutex mu_;
  std::string all_;
};

TEST_F(BrokerServiceTest, RunRestartsOnACrlChangeAndAfterACrashAndStopsCleanly) {
  if (!MosquittoAvailable()) GTEST_SKIP() << kMosquittoPath << " is missing";
  Events events;
  std::atomic<bool> stop{false}, listening{false};
  BrokerRunOptions o;
  o.home = Options();
  o.home.port = FreePort();
  o.crl_poll_ms = 100;
  o.crl_min_restart_ms = 1000;
  o.backoff_min_ms = 100;
  o.on_listening = [&](const std::string& address) {
    events.Add("listening " + address);
    listening = true;
  };
  o.on_event = [&](const std::string& e) { events.Add(e); };
  Status result;
  std::thread run([&] { result = RunBroker(o, stop); });

  ASSERT_TRUE(events.WaitFor("listening 127.0.0.1:" + std::to_string(o.home.port))) << events.All();
  const pid_t first = events.LastPid();
  ASSERT_GT(first, 0) << events.All();

  // One broker per home: a second run or a `config` is refused while this one runs.
  std::atomic<bool> no{false};
  BrokerRunOptions other = o;
  other.home.port = FreePort();
  Status twice = RunBroker(other, no);
  EXPECT_EQ(twice.code(), StatusCode::kFailedPrecondition) << twice.ToString();
  EXPECT_NE(twice.message().find("pid " + std::to_string(::getpid())), std::string::npos)
      << twice.ToString();
  auto config = PrepareBroker(other.home);
  EXPECT_EQ(config.status().code(), StatusCode::kFailedPrecondition);
  auto conf = ReadFile(home_ + "/broker/mosquitto.conf");
  ASSERT_TRUE(conf.ok());
  EXPECT_NE(conf->find("listener " + std::to_string(o.home.port) + " "), std::string::npos);

  // A crash: restarted after the backoff, on the same port.
  ASSERT_EQ(::kill(first, SIGKILL), 0);
  ASSERT_TRUE(events.WaitFor("mosquitto started again")) << events.All();
  EXPECT_NE(events.All().find("killed by signal 9"), std::string::npos) << events.All();
  const pid_t second = events.LastPid();
  EXPECT_NE(second, first);
  EXPECT_EQ(::kill(second, 0), 0);

  // A new CRL (what `vqi thing revoke` writes): restarted.
  auto ca = pki::OpenCa(pki::CaDir(home_));
  ASSERT_TRUE(ca.ok());
  ASSERT_TRUE(pki::WriteCrl(*ca).ok());
  ASSERT_TRUE(events.WaitFor("mosquitto restarted")) << events.All();
  EXPECT_NE(events.All().find("crl.pem changed"), std::string::npos);
  const pid_t third = events.LastPid();
  EXPECT_NE(third, second);

  // A missing CRL is written again from the index (then the change restarts the broker).
  ASSERT_TRUE(std::filesystem::remove(ca->CrlPath()));
  ASSERT_TRUE(events.WaitFor("mosquitto restarted", 2)) << events.All();
  EXPECT_TRUE(FileExists(ca->CrlPath()));

  // A burst of CRL changes (several revocations in a row) shares restarts: at most one per
  // crl_min_restart_ms (1 s here), where a restart per change would make 5.
  ASSERT_TRUE(events.WaitFor("mosquitto restarted", 2));
  const int before_burst = events.Count("crl.pem changed");
  const auto burst_start = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(pki::WriteCrl(*ca).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
  }
  const auto burst_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - burst_start)
                            .count();
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  const int burst = events.Count("crl.pem changed") - before_burst;
  EXPECT_GE(burst, 1) << events.All();
  // One restart at the first change, then at most one per second while writes go on, plus
  // the one that picks up the last write (2 when the writes take < 1 s, as usual).
  EXPECT_LE(burst, 2 + static_cast<int>(burst_ms / 1000)) << burst_ms << " ms\n" << events.All();
  EXPECT_LT(burst, 5) << events.All();
  EXPECT_EQ(::kill(events.LastPid(), 0), 0) << events.All();  // and it runs

  stop = true;
  run.join();
  EXPECT_TRUE(result.ok()) << result.ToString();
  EXPECT_TRUE(listening.load());
  EXPECT_NE(::kill(events.LastPid(), 0), 0);  // reaped: no such process
  EXPECT_NE(events.All().find("mosquitto stopped"), std::string::npos);
}

// After a crash, restarts that keep failing (here: someone took the port) back off 1000, 2000,
// 4000 ms...; once the port is free again Mosquitto comes back. (The first delay leaves the test
// time to take the port before the supervisor's restart on a loaded machine.)
TEST_F(BrokerServiceTest, FailingRestartsBackOff) {
  if (!MosquittoAvailable()) GTEST_SKIP() << kMosquittoPath << " is missing";
  Events events;
  std::atomic<bool> stop{false};
  BrokerRunOptions o;
  o.home = Options();
  o.home.port = FreePort();
  o.crl_poll_ms = 100;
  o.backoff_min_ms = 1000;
  o.stable_after_ms = 400;  // the first run counts as stable: the delay starts at the minimum
  o.on_listening = [&](const std::string& a) { events.Add("listening " + a); };
  o.on_event = [&](const std::string& e) { events.Add(e); };
  Status result;
  std::thread run([&] { result = RunBroker(o, stop); });
  ASSERT_TRUE(events.WaitFor("listening ")) << events.All();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  ASSERT_EQ(::kill(events.LastPid(), SIGKILL), 0);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(o.home.port));
  bool bound = false;
  for (int i = 0; i < 200 && !bound; ++i) {  // until the killed broker released the port
    bound = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    if (!bound) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(bound);
  ASSERT_EQ(::listen(fd, 1), 0);
  EXPECT_TRUE(events.WaitFor("starting it again in 4000 ms", 1, 20000)) << events.All();
  const std::string all = events.All();
  const size_t d1 = all.find("starting it again in 1000 ms");
  const size_t d2 = all.find("starting it again in 2000 ms");
  ASSERT_NE(d1, std::string::npos) << all;
  ASSERT_NE(d2, std::string::npos) << all;
  EXPECT_LT(d1, d2);
  EXPECT_NE(all.find("mosquitto failed to start"), std::string::npos) << all;
  ::close(fd);
  EXPECT_TRUE(events.WaitFor("mosquitto started again", 1, 20000)) << events.All();
  stop = true;
  run.join();
  EXPECT_TRUE(result.ok()) << result.ToString();
}

TEST_F(BrokerServiceTest, RunFailsWhenTheFirstStartFails) {
  if (!MosquittoAvailable()) GTEST_SKIP() << kMosquittoPath << " is missing";
  // The port is taken by a listening socket: Mosquitto exits, RunBroker says why.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  BrokerRunOptions o;
  o.home = Options();
  o.home.port = ntohs(addr.sin_port);
  o.on_event = [](const std::string&) {};
  std::atomic<bool> stop{false};
  Status s = RunBroker(o, stop);
  ::close(fd);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find("mosquitto"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace vqi::transport
