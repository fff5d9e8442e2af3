// Child processes of the agent: spawning lifecycle scripts as their own process groups, and
// reaping them from one poll loop (no thread per process). Single-threaded; one instance per
// process (it installs SIGCHLD/SIGTERM/SIGINT handlers).
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "vqi/base/status.h"

namespace vqi::agent {

struct SpawnSpec {
  std::string script;            // run as `sh -c script`
  std::string cwd;               // made if missing
  std::vector<std::string> env;  // "K=V" on top of the agent's environment
  std::string log_path;          // stdout and stderr appended here
  std::optional<uid_t> uid;      // set (with gid) in the child when the agent is root
  std::optional<gid_t> gid;
};

// Exit of a child: `code` when it exited, else the `signal` that ended it.
struct ExitInfo {
  int code = -1;
  int signal = 0;
  std::string Describe() const;  // "exited with code 3" / "killed by signal 9"
};

class Supervisor {
 public:
  Supervisor();
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Starts `sh -c script` in a new process group (pgid = pid). Unavailable when fork fails.
  Result<pid_t> Spawn(const SpawnSpec& spec);
  // Sleeps up to `seconds` or until a child exits or a stop signal arrives, then reaps every
  // exited child.
  void Wait(double seconds);
  // The exit of `pid`, once reaped (removed from the table).
  std::optional<ExitInfo> TakeExit(pid_t pid);
  // SIGTERM or SIGINT arrived.
  bool stop_requested() const;
  // Ends the current (or next) Wait early; any thread, async-signal-safe.
  static void Wake();

  static void SignalGroup(pid_t pgid, int sig);
  // Kills (SIGKILL, whole process group) every process whose environment holds
  // VQI_AGENT_ROOT=<root>, except this one: children of a crashed agent. Returns how many.
  static int KillOrphans(const std::string& root);
  static double Now();  // monotonic seconds

 private:
  std::map<pid_t, ExitInfo> exited_;
};

}  // namespace vqi::agent
