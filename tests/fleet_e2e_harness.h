// Test support for the fleet end-to-end tests (issue 19): real processes on loopback — a
// Mosquitto broker (`vqi broker run`, or the test broker of vqi_transport_testing when this vqi
// has no broker verb), `vqi server --mqtt ... --tls-auto`, things created with `vqi thing
// create`, and one `vqi-agent run --bundle` per thing with its own root. Deployments are created
// with `vqi deployment create` and followed with `vqi deployment status --json`; a wait that
// runs out fails the test with the statuses and the tails of every process's log.
//
// Binaries: $VQI_BIN (set by ctest) and VQI_AGENT_BIN (a compile definition).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "run_vqi.h"
#include "transport/testing/broker.h"
#include "vqi/agent/supervisor.h"
#include "vqi/base/file.h"
#include "vqi/base/hash.h"
#include "vqi/base/json.h"
#include "vqi/base/testing/free_port.h"
#include "vqi/pki/pki.h"

namespace vqi::e2e {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using vqi::testing::CmdResult;

inline double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

inline CmdResult Shell(const std::string& cmd) {
  CmdResult r{-1, ""};
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

inline std::string Slurp(const std::string& path) {
  auto r = ReadFile(path);
  return r.ok() ? *r : std::string();
}

inline std::string Tail(const std::string& text, size_t bytes) {
  return text.size() > bytes ? "..." + text.substr(text.size() - bytes) : text;
}

// Deterministic pseudo-random bytes (xorshift), so sizes and digests are known to the test.
inline std::string Bytes(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (char& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return s;
}

// A loopback port below the ephemeral range (vqi/base/testing/free_port.h).
inline int FreePort() { return vqi::testing::FreeLoopbackPort(); }

// Polls `pred` every 100 ms up to `seconds`.
template <class F>
bool WaitFor(F pred, double seconds) {
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return pred();
}

// A child process whose stdout and stderr go to one log file.
class Proc {
 public:
  Proc() = default;
  Proc(const Proc&) = delete;
  Proc& operator=(const Proc&) = delete;
  ~Proc() { Stop(5); }

  bool Start(const std::vector<std::string>& args, const std::string& log_path,
             const std::vector<std::string>& more_args = {}) {
    log_ = log_path;
    std::vector<std::string> a = args;
    a.insert(a.end(), more_args.begin(), more_args.end());
    std::vector<char*> argv;
    for (auto& s : a) argv.push_back(s.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) return false;
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test
      const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    return true;
  }
  // True once the log contains `text` (false when the process ended or `seconds` passed).
  bool WaitLog(const std::string& text, double seconds) {
    return WaitFor([&] { return Log().find(text) != std::string::npos || !Alive(); }, seconds) &&
           Log().find(text) != std::string::npos;
  }
  bool Alive() {
    if (pid_ <= 0) return false;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      exit_status_ = st;
      pid_ = -1;
      return false;
    }
    return true;
  }
  // SIGTERM, wait up to `seconds`, then SIGKILL. The exit code; -1 when killed by a signal or
  // not running; -2 when it had to be killed.
  int Stop(double seconds = 20) {
    if (pid_ <= 0)
      return exit_status_ >= 0 && WIFEXITED(exit_status_) ? WEXITSTATUS(exit_status_) : -1;
    ::kill(pid_, SIGTERM);
    int st = 0;
    const bool ended = WaitFor([&] { return ::waitpid(pid_, &st, WNOHANG) == pid_; }, seconds);
    if (!ended) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &st, 0);
    }
    pid_ = -1;
    exit_status_ = st;
    if (!ended) return -2;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }
  pid_t pid() const { return pid_; }
  std::string Log() const { return Slurp(log_); }
  const std::string& log_path() const { return log_; }

 private:
  pid_t pid_ = -1;
  int exit_status_ = -1;
  std::string log_;
};

struct Agent {
  std::string thing, root, bundle;
  std::unique_ptr<Proc> proc;
  std::vector<std::string> extra_args = {};  // appended to `vqi-agent run` (e.g. spool bounds)
};

// The fixture: one vqi home, a broker, a server with the fleet controller, N agents.
class FleetE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!transport::testing::MosquittoAvailable()) GTEST_SKIP() << "no /usr/sbin/mosquitto";
    std::string t = (fs::temp_directory_path() / "vqi-fleet-e2e-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    dir_ = t;
    home_ = dir_ + "/home";
    ASSERT_EQ(Vqi("key create acme").code, 0);
  }
  void TearDown() override {
    if (HasFailure()) DumpDiagnostics();
    for (Agent& a : agents_) {
      if (a.proc) a.proc->Stop(10);
      agent::Supervisor::KillOrphans(a.root);
    }
    server_.Stop(10);
    broker_proc_.Stop(10);
    if (test_broker_) test_broker_->Stop();
    std::error_code ec;
    if (!HasFailure() || !std::getenv("VQI_E2E_KEEP")) fs::remove_all(dir_, ec);
  }

  CmdResult Vqi(const std::string& args) {
    return vqi::testing::RunVqi("--home '" + home_ + "' " + args);
  }
  Json JsonOf(const CmdResult& r) {
    auto j =
        ParseJson(r.out.substr(std::min(r.out.find_first_of("{["), r.out.size())), "vqi output");
    EXPECT_TRUE(j.ok()) << r.out;
    return j.ok() ? *j : Json();
  }
  void Write(const std::string& path, const std::string& data) {
    ASSERT_TRUE(WriteFileAtomic(path, data).ok()) << path;
  }

  // Signs and stores `name`@`version` (recipe JSON text and its artifact files by name).
  void Component(const std::string& recipe, const std::map<std::string, std::string>& files,
                 const std::string& tag) {
    const std::string in = dir_ + "/in/" + tag;
    Write(in + "/recipe.json", recipe);
    std::string args = "component create --recipe " + in + "/recipe.json --key acme";
    for (const auto& [file, data] : files) {
      Write(in + "/" + file, data);
      args += " --artifact " + in + "/" + file;
    }
    const CmdResult c = Vqi(args);
    ASSERT_EQ(c.code, 0) << c.out;
  }

  // Things thing-1..N in group `e2e`, the broker, the server, one agent per thing.
  void StartFleet(int things, const std::string& soak = "1") {
    broker_port_ = FreePort();
    server_port_ = FreePort();
    for (int i = 1; i <= things; ++i) {
      const std::string name = "cam-" + std::to_string(i);
      const CmdResult c = Vqi("thing create " + name +
                              " --group e2e --broker 127.0.0.1:" + std::to_string(broker_port_) +
                              " --server https://127.0.0.1:" + std::to_string(server_port_));
      ASSERT_EQ(c.code, 0) << c.out;
      agents_.push_back({name,
                         dir_ + "/agents/" + name,
                         home_ + "/fleet/bundles/" + name,
                         {},
                         static_cast<size_t>(i) <= agent_args_.size()
                             ? agent_args_[i - 1]
                             : std::vector<std::string>{}});
    }
    ASSERT_NO_FATAL_FAILURE(StartBroker());
    ASSERT_NO_FATAL_FAILURE(StartServer());
    for (Agent& a : agents_) ASSERT_NO_FATAL_FAILURE(StartAgent(a, soak));
    std::printf("[ e2e ] fleet of %d up (broker, server, agents) %.1f s after the test began\n",
                things, SecondsSince(began_));
  }

  void StartBroker() {
    // (A vqi without the verb prints its main help, which has no --port.) Asked once per run.
    static const bool has_broker_verb =
        Vqi("broker run --help").out.find("--port") != std::string::npos;
    if (has_broker_verb) {
      ASSERT_TRUE(broker_proc_.Start({std::getenv("VQI_BIN"), "--home", home_, "broker", "run",
                                      "--port", std::to_string(broker_port_)},
                                     dir_ + "/broker.log"));
      ASSERT_TRUE(broker_proc_.WaitLog("broker: listening on 127.0.0.1:", 20))
          << broker_proc_.Log();
      return;
    }
    // This vqi has no broker verb: the test broker with a server certificate from the vqi CA.
    auto ca = pki::OpenCa(pki::CaDir(home_));
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    auto issued = pki::IssueCertificate(
        *ca, {"e2e-broker", pki::CertKind::kServer, {"localhost"}, {"127.0.0.1"}, 30});
    ASSERT_TRUE(issued.ok()) << issued.status().ToString();
    ASSERT_TRUE(pki::WriteIssued(dir_ + "/broker-tls", *issued).ok());
    transport::testing::BrokerOptions o;
    o.dir = dir_ + "/broker";
    o.ca_file = ca->CertPath();
    o.server_cert_file = dir_ + "/broker-tls/cert.pem";
    o.server_key_file = dir_ + "/broker-tls/key.pem";
    o.crl_file = ca->CrlPath();
    o.port = broker_port_;
    auto b = transport::testing::StartBroker(o);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    test_broker_ = std::move(*b);
  }

  void StartServer() {
    ASSERT_TRUE(server_.Start(
        {std::getenv("VQI_BIN"), "--home", home_, "server", "--port", std::to_string(server_port_),
         "--mqtt", "127.0.0.1:" + std::to_string(broker_port_), "--tls-auto"},
        dir_ + "/server.log"));
    ASSERT_TRUE(server_.WaitLog("listening on https://127.0.0.1:", 30)) << server_.Log();
  }

  void StartAgent(Agent& a, const std::string& soak = "1") {
    a.proc = std::make_unique<Proc>();
    ASSERT_TRUE(
        a.proc->Start({VQI_AGENT_BIN, "run", "--root", a.root, "--bundle", a.bundle, "--soak", soak,
                       "--restart-base", "0.1", "--stop-grace", "2", "--heartbeat", "1"},
                      dir_ + "/agent-" + a.thing + ".log", a.extra_args));
    ASSERT_TRUE(WaitFor([&] { return AgentStatus(a).value("agentRunning", false); }, 20))
        << a.proc->Log();
  }

  Json AgentStatus(const Agent& a) {
    const CmdResult c = Shell(std::string(VQI_AGENT_BIN) + " status --root " + a.root + " --json");
    auto j = ParseJson(c.out, "vqi-agent status");
    return j.ok() ? *j : Json::object();
  }
  int64_t BytesDownloaded(const Agent& a) {
    const Json s = AgentStatus(a);
    return s.contains("transfer") ? s["transfer"].value("bytesDownloaded", int64_t{-1}) : -1;
  }

  // `vqi deployment create --target group:e2e` with this document; its id ("" on failure).
  std::string Deploy(const std::string& tag, const std::string& doc,
                     const std::string& target = "group:e2e") {
    const std::string path = dir_ + "/deployments/" + tag + ".json";
    EXPECT_TRUE(WriteFileAtomic(path, doc).ok());
    const CmdResult c = Vqi("deployment create --target " + target + " --file " + path + " --json");
    EXPECT_EQ(c.code, 0) << c.out;
    if (c.code != 0) return "";
    created_at_ = Clock::now();
    return JsonOf(c).value("id", "");
  }

  // Waits until every device of deployment `id` has a terminal status; true when all of them
  // are `expected`. A wait that runs out or another outcome is reported with the statuses
  // (the fixture's TearDown prints the logs).
  bool WaitDeployment(const std::string& id, const std::string& expected, double seconds,
                      Json* out = nullptr) {
    static const std::vector<std::string> kTerminal = {
        "SUCCEEDED", "FAILED_ROLLBACK_COMPLETE", "FAILED_NO_ROLLBACK", "REJECTED", "TIMED_OUT",
        "CANCELED"};
    Json last;
    const bool done = WaitFor(
        [&] {
          const CmdResult c = Vqi("deployment status " + id + " --json");
          auto j = ParseJson(c.out, "deployment status");
          if (!j.ok() || !(*j).contains("devices") || (*j)["devices"].empty()) return false;
          last = *j;
          for (const Json& d : (*j)["devices"])
            if (std::find(kTerminal.begin(), kTerminal.end(), d.value("status", "")) ==
                kTerminal.end())
              return false;
          return true;
        },
        seconds);
    last_wait_seconds_ = SecondsSince(created_at_);
    if (out) *out = last;
    if (!done) {
      ADD_FAILURE() << "deployment " << id << ": not every device finished within " << seconds
                    << " s (expected " << expected << "):\n"
                    << last.dump(2);
      return false;
    }
    for (const Json& d : last["devices"])
      if (d.value("status", "") != expected) {
        ADD_FAILURE() << "deployment " << id << ": expected every device " << expected << ":\n"
                      << last.dump(2);
        return false;
      }
    return true;
  }

  void DumpDiagnostics() {
    std::fprintf(stderr, "\n===== fleet e2e diagnostics (%s) =====\n", dir_.c_str());
    std::fprintf(stderr, "--- vqi deployment list ---\n%s\n", Vqi("deployment list").out.c_str());
    std::fprintf(stderr, "--- server.log ---\n%s\n", Tail(server_.Log(), 6000).c_str());
    std::string blog = broker_proc_.Log();
    if (test_broker_) blog = test_broker_->Log();
    if (blog.empty()) blog = Slurp(home_ + "/broker/mosquitto.log");
    std::fprintf(stderr, "--- broker ---\n%s\n", Tail(blog, 3000).c_str());
    for (Agent& a : agents_) {
      std::fprintf(stderr, "--- agent %s: status ---\n%s\n--- agent %s: log ---\n%s\n",
                   a.thing.c_str(), AgentStatus(a).dump(2).c_str(), a.thing.c_str(),
                   a.proc ? Tail(a.proc->Log(), 6000).c_str() : "");
      std::error_code ec;
      if (fs::exists(a.root + "/logs", ec))
        for (const auto& e : fs::directory_iterator(a.root + "/logs", ec))
          std::fprintf(stderr, "--- %s ---\n%s\n", e.path().c_str(),
                       Tail(Slurp(e.path().string()), 1500).c_str());
    }
  }

  std::string dir_, home_;
  int broker_port_ = 0, server_port_ = 0;
  Proc broker_proc_, server_;
  std::unique_ptr<transport::testing::Broker> test_broker_;
  std::vector<Agent> agents_;
  std::vector<std::vector<std::string>>
      agent_args_;  // per thing (cam-1 first), set before StartFleet
  Clock::time_point began_ = Clock::now(), created_at_ = Clock::now();
  double last_wait_seconds_ = 0;
};

}  // namespace vqi::e2e
