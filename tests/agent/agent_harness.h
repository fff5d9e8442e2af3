// Test support for vqi-agent end-to-end tests: a scratch root, recipe and artifact writers, the
// daemon as a child process, and `vqi-agent deploy|status` runs. The binary is VQI_AGENT_BIN.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "vqi/agent/supervisor.h"
#include "vqi/base/json.h"

namespace vqi::agent_test {

namespace fs = std::filesystem;

struct Cmd {
  int code = -1;
  std::string out;
};

inline Cmd Sh(const std::string& cmd) {
  Cmd r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

inline std::string Slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

inline void Write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text;
}

class AgentHarness {
 public:
  AgentHarness() {
    char tmpl[] = "/tmp/vqi-agent-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    root_ = dir_ + "/root";
    fs::create_directories(dir_ + "/recipes");
    fs::create_directories(dir_ + "/artifacts");
  }
  ~AgentHarness() {
    Stop();
    if (::testing::Test::HasFailure()) {  // the agent's own log explains most failures
      const std::string log = Slurp(dir_ + "/agent.log");
      std::fprintf(stderr, "--- agent.log (last 4000 bytes) ---\n%s\n",
                   log.substr(log.size() > 4000 ? log.size() - 4000 : 0).c_str());
    }
    agent::Supervisor::KillOrphans(root_);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  const std::string& dir() const { return dir_; }
  const std::string& root() const { return root_; }

  void Recipe(const std::string& file, const std::string& json) {
    Write(dir_ + "/recipes/" + file, json);
  }
  void Artifact(const std::string& name, const std::string& version, const std::string& file,
                const std::string& content) {
    Write(dir_ + "/artifacts/" + name + "/" + version + "/" + file, content);
  }
  std::string ArtifactPath(const std::string& name, const std::string& version,
                           const std::string& file) const {
    return dir_ + "/artifacts/" + name + "/" + version + "/" + file;
  }

  // Starts `vqi-agent run --root R <extra>`; `crash_at` sets VQI_AGENT_CRASH_AT.
  void Start(const std::string& extra = "--soak 1 --restart-base 0.1 --stop-grace 2",
             const std::string& crash_at = "") {
    Stop();
    const std::string log = dir_ + "/agent.log";
    pid_ = fork();
    if (pid_ == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      if (!crash_at.empty())
        ::setenv("VQI_AGENT_CRASH_AT", crash_at.c_str(), 1);
      else
        ::unsetenv("VQI_AGENT_CRASH_AT");
      const std::string cmd =
          std::string("exec ") + VQI_AGENT_BIN + " run --root " + root_ + " " + extra;
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
      ::_exit(127);
    }
    // Running once the lock is held.
    for (int i = 0; i < 100 && !Running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  bool Running() {
    const Cmd c = Sh(std::string(VQI_AGENT_BIN) + " status --root " + root_ + " --json");
    auto j = ParseJson(c.out);
    return j.ok() && j->value("agentRunning", false);
  }
  // SIGTERM and wait; returns the exit status (or -1 when it was not running).
  int Stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int st = 0;
    ::waitpid(pid_, &st, 0);
    pid_ = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }
  // Waits for the daemon to end by itself (e.g. a crash point); its wait status.
  int WaitExit(double seconds) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (pid_ > 0 && std::chrono::steady_clock::now() < end) {
      int st = 0;
      if (::waitpid(pid_, &st, WNOHANG) == pid_) {
        pid_ = 0;
        return st;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }
  void Kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }
  pid_t pid() const { return pid_; }

  Cmd Deploy(const std::string& doc, const std::string& extra = "") {
    Write(dir_ + "/d.json", doc);
    return Sh(std::string(VQI_AGENT_BIN) + " deploy --root " + root_ + " --file " + dir_ +
              "/d.json --recipes " + dir_ + "/recipes --artifacts " + dir_ +
              "/artifacts --wait 60 " + extra);
  }
  Json Status() {
    const Cmd c = Sh(std::string(VQI_AGENT_BIN) + " status --root " + root_ + " --json");
    auto j = ParseJson(c.out);
    return j.ok() ? *j : Json();
  }
  std::string Log(const std::string& component) const {
    return Slurp(root_ + "/logs/" + component + ".log");
  }
  // Processes whose environment carries this root's marker (the running components).
  int ComponentProcesses() const {
    const std::string marker = "VQI_AGENT_ROOT=" + root_;
    int n = 0;
    for (const auto& e : fs::directory_iterator("/proc")) {
      const std::string name = e.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::string env = Slurp(e.path().string() + "/environ");
      std::string stat = Slurp(e.path().string() + "/stat");
      if (stat.find(") Z") != std::string::npos) continue;  // zombies
      size_t pos = 0;
      while (pos < env.size()) {
        size_t z = env.find('\0', pos);
        if (env.compare(pos, (z == std::string::npos ? env.size() : z) - pos, marker) == 0) {
          ++n;
          break;
        }
        if (z == std::string::npos) break;
        pos = z + 1;
      }
    }
    return n;
  }

 private:
  std::string dir_, root_;
  pid_t pid_ = 0;
};

// Polls `pred` every 50 ms up to `seconds`.
template <class F>
bool WaitFor(F pred, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

}  // namespace vqi::agent_test
