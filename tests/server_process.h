// A `vqi server` child process for integration tests: started with the real binary ($VQI_BIN),
// its port read from the first line it prints, stopped with SIGTERM.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "vqi_child.h"

namespace vqi::testing {

class ServerProcess {
 public:
  // Runs `$VQI_BIN --home <home> server --port 0 <extra...>`; false if it printed no
  // "listening on ...:<port>" line within 20 s (`output()` then holds what it printed).
  bool Start(const std::string& home, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {
        std::getenv("VQI_BIN"), "--home", home, "server", "--port", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    err_path_ = home + ".server.log";
    pid_ = SpawnVqiChild(std::move(args), err_path_, &out_fd_);
    if (pid_ < 0) return false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{out_fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[512];
      const ssize_t n = ::read(out_fd_, buf, sizeof buf);
      if (n <= 0) break;
      output_.append(buf, static_cast<size_t>(n));
      const size_t nl = output_.find('\n');
      if (nl == std::string::npos) continue;
      const std::string line = output_.substr(0, nl);
      const size_t at = line.find("listening on ");
      if (at == std::string::npos) return false;
      const size_t colon = line.find(':', line.find("//", at) + 2);
      port_ = std::atoi(line.c_str() + colon + 1);
      return port_ > 0;
    }
    return false;
  }

  // SIGTERM, then waits up to `seconds`; the exit code, or -1 (killed or did not exit).
  int Stop(int seconds = 20) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    const int code = Wait(seconds);
    return code;
  }
  int Wait(int seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    int st = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      const pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &st, 0);
    pid_ = -1;
    return -1;
  }
  ~ServerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int st;
      ::waitpid(pid_, &st, 0);
    }
    if (out_fd_ >= 0) ::close(out_fd_);
  }

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& output() const { return output_; }
  const std::string& log_path() const { return err_path_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int port_ = 0;
  std::string output_, err_path_;
};

// Resident memory of a process in KiB (VmRSS), -1 if unknown.
inline long RssKib(pid_t pid) {
  FILE* f = std::fopen(("/proc/" + std::to_string(pid) + "/status").c_str(), "r");
  if (!f) return -1;
  char line[256];
  long kib = -1;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "VmRSS: %ld kB", &kib) == 1) break;
  std::fclose(f);
  return kib;
}

}  // namespace vqi::testing
