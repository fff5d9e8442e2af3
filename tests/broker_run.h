// A `vqi broker run` child process for integration tests (docs/design/pki-mqtt.md): the real
// binary ($VQI_BIN), its one stdout line awaited, its stderr (the supervisor's events) in
// `<home>.broker.log`, stopped with SIGTERM. Pick the port with FreePort() first.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "vqi/base/file.h"
#include "vqi/base/testing/free_port.h"
#include "vqi_child.h"

namespace vqi::testing {

// A loopback TCP port that was free a moment ago.
inline int FreePort() { return FreeLoopbackPort(); }

// `vqi --home H broker run --port P [extra...]`: Start() returns true once it printed its first
// line (`output()`: "broker: listening on 127.0.0.1:P\n"), false if it exited or printed
// nothing within 30 s.
class BrokerRun {
 public:
  using Clock = std::chrono::steady_clock;
  bool Start(const std::string& home, int port, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {
        std::getenv("VQI_BIN"), "--home", home, "broker", "run", "--port", std::to_string(port)};
    args.insert(args.end(), extra.begin(), extra.end());
    err_path_ = home + ".broker.log";
    pid_ = SpawnVqiChild(std::move(args), err_path_, &out_fd_);
    if (pid_ < 0) return false;
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < deadline) {
      pollfd p{out_fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[512];
      const ssize_t n = ::read(out_fd_, buf, sizeof buf);
      if (n <= 0) return false;
      output_.append(buf, static_cast<size_t>(n));
      if (output_.find('\n') != std::string::npos) return true;
    }
    return false;
  }
  // SIGTERM; the exit code, or -1 (killed or did not exit within `seconds`).
  int Stop(int seconds = 20) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    const auto deadline = Clock::now() + std::chrono::seconds(seconds);
    int st = 0;
    while (Clock::now() < deadline) {
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }
  ~BrokerRun() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int st;
      ::waitpid(pid_, &st, 0);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
  }
  const std::string& output() const { return output_; }
  pid_t pid() const { return pid_; }
  std::string Events() const {
    auto t = ReadFile(err_path_);
    return t.ok() ? *t : "";
  }
  // The Mosquitto child's pid from the last "(pid N)" event.
  pid_t MosquittoPid() const {
    const std::string e = Events();
    const size_t at = e.rfind("(pid ");
    return at == std::string::npos ? -1 : std::atoi(e.c_str() + at + 5);
  }
  int CountEvents(const std::string& needle) const {
    const std::string e = Events();
    int n = 0;
    for (size_t at = e.find(needle); at != std::string::npos; at = e.find(needle, at + 1)) ++n;
    return n;
  }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string output_, err_path_;
};

}  // namespace vqi::testing
