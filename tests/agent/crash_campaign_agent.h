// The crash campaign's view of the agent (agent_crash_campaign.cc): `vqi-agent run` as a direct
// child, and the deployment's phase as the durable state shows it (inotify-driven waits).
#pragma once

#include <poll.h>
#include <sys/inotify.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "crash_campaign_sets.h"
#include "vqi/agent/state.h"
#include "vqi/base/file.h"

namespace vqi::agent_test {

// ---------------------------------------------------------------- the agent process

// `vqi-agent run` as a direct child (exec, no shell): its pid is the agent's, the parent of
// every component process it starts.
class AgentProcess {
 public:
  AgentProcess(std::string root, std::string log) : root_(std::move(root)), log_(std::move(log)) {}
  ~AgentProcess() { Kill9(); }
  void Start(const std::vector<std::pair<std::string, std::string>>& env = {}) {
    Kill9();
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::unsetenv("VQI_AGENT_CRASH_AT");
      for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
      ::execl(AgentBin(), "vqi-agent", "run", "--root", root_.c_str(), "--soak", "0.2",
              "--restart-base", "0.05", "--stop-grace", "1", nullptr);
      ::_exit(127);
    }
  }
  bool Alive() {
    if (pid_ <= 0) return false;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      exit_ = WIFEXITED(st) ? "exit " + std::to_string(WEXITSTATUS(st))
                            : "signal " + std::to_string(WTERMSIG(st));
      pid_ = 0;
      return false;
    }
    return true;
  }
  void Stop() {  // SIGTERM: components stopped in order
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }
  void Kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }
  pid_t pid() const { return pid_; }
  const std::string& exit() const { return exit_; }

 private:
  std::string root_, log_, exit_;
  pid_t pid_ = 0;
};

// ---------------------------------------------------------------- phases from durable state

// The phase the durable state shows for deployment `id`, in order. "prepare" is the inflight
// phase "queued" (plan + install folders); "outcome" = outcome written, in-flight not yet dropped.
inline const std::vector<std::string>& PhaseOrder() {
  static const std::vector<std::string> order = {"inbox",    "prepare", "prepared",     "stopping",
                                                 "starting", "soaking", "rolling-back", "committed",
                                                 "outcome",  "done"};
  return order;
}
inline int Rank(const std::string& phase) {
  const auto& o = PhaseOrder();
  auto it = std::find(o.begin(), o.end(), phase);
  if (phase == "committed") return 6;  // rolling-back and committed exclude each other
  return it == o.end() ? -1 : static_cast<int>(it - o.begin());
}

inline std::string DurablePhase(const agent::Layout& l, const std::string& id) {
  const bool outcome = FileExists(l.results() + "/" + id + ".json");
  auto inflight = ReadJsonFile(l.inflight());
  auto current = ReadJsonFile(l.current());
  const std::string current_id = current.ok() ? current->value("deploymentId", "") : "";
  if (inflight.ok()) {
    const std::string phase = inflight->value("phase", "");
    if (current_id == id) return outcome ? "outcome" : "committed";
    if (outcome) return "outcome";
    return phase == "queued" ? "prepare" : phase;
  }
  return outcome ? "done" : "inbox";
}

// Wakes on any rename/create/delete in state/, state/inbox/, state/deployments/.
class StateWatch {
 public:
  explicit StateWatch(const agent::Layout& l) : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
    for (const std::string& d : {l.state(), l.inbox(), l.results()})
      ::inotify_add_watch(fd_, d.c_str(), IN_MOVED_TO | IN_CREATE | IN_DELETE);
  }
  ~StateWatch() { ::close(fd_); }
  void Wait(int ms) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, ms) > 0) {
      char buf[4096];
      while (::read(fd_, buf, sizeof buf) > 0) {
      }
    }
  }

 private:
  int fd_;
};

}  // namespace vqi::agent_test
