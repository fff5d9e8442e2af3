#include "vqi/agent/supervisor.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "vqi/base/file.h"

extern char** environ;

namespace vqi::agent {
namespace {

int g_pipe[2] = {-1, -1};
volatile sig_atomic_t g_stop = 0;

void OnSignal(int sig) {
  const int saved = errno;
  if (sig == SIGTERM || sig == SIGINT) g_stop = 1;
  if (g_pipe[1] >= 0) {
    char c = 0;
    (void)!::write(g_pipe[1], &c, 1);
  }
  errno = saved;
}

}  // namespace

std::string ExitInfo::Describe() const {
  if (signal) return "killed by signal " + std::to_string(signal);
  return "exited with code " + std::to_string(code);
}

Supervisor::Supervisor() {
  if (g_pipe[0] < 0 && ::pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) g_pipe[0] = g_pipe[1] = -1;
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  ::sigaction(SIGCHLD, &sa, nullptr);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
}

Supervisor::~Supervisor() {
  ::signal(SIGCHLD, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  ::signal(SIGINT, SIG_DFL);
}

double Supervisor::Now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

bool Supervisor::stop_requested() const { return g_stop != 0; }

void Supervisor::Wake() {
  if (g_pipe[1] >= 0) {
    char c = 1;
    (void)!::write(g_pipe[1], &c, 1);
  }
}

Result<pid_t> Supervisor::Spawn(const SpawnSpec& spec) {
  VQI_RETURN_IF_ERROR(MakeDirs(spec.cwd));
  // Everything the child needs is prepared before fork(): only async-signal-safe calls after.
  std::vector<std::string> env_store;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    const std::string key = kv.substr(0, kv.find('='));
    bool overridden = false;
    for (const auto& o : spec.env)
      if (o.compare(0, key.size() + 1, key + "=") == 0) overridden = true;
    if (!overridden) env_store.push_back(std::move(kv));
  }
  for (const auto& o : spec.env) env_store.push_back(o);
  std::vector<char*> envp;
  for (auto& s : env_store) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string sh = "/bin/sh", dash_c = "-c", script = spec.script;
  char* argv[] = {sh.data(), dash_c.data(), script.data(), nullptr};
  int log = ::open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (log < 0) return Unavailable(spec.log_path + ": " + std::strerror(errno));
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log);
    if (devnull >= 0) ::close(devnull);
    return Unavailable(std::string("fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGCHLD, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGPIPE, SIG_DFL);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(log, 1);
    ::dup2(log, 2);
    // Nothing else of the agent leaks into a component: descriptors other threads opened
    // without O_CLOEXEC (libmosquitto's and libcurl's sockets) are closed here.
    if (::close_range(3, ~0U, 0) != 0)
      for (int fd = 3; fd < 4096; ++fd) ::close(fd);  // kernels before 5.9
    if (::chdir(spec.cwd.c_str()) != 0) ::_exit(126);
    if (spec.gid && ::setgid(*spec.gid) != 0) ::_exit(126);
    if (spec.uid && ::setuid(*spec.uid) != 0) ::_exit(126);
    // Until its exec a child shows the agent's environment, without VQI_AGENT_ROOT, so an
    // agent restarted after a kill -9 between fork and exec could not find it and it would run
    // on as an orphan of the old set (found by the crash campaign). It dies with the agent
    // instead: set after setuid (a credential change clears it), checked against a parent
    // that died before it was set, and kept by the exec (as systemd's KillMode=control-group
    // would kill it when the agent's unit restarts). Requires forking from the agent's main
    // thread (the signal follows the forking thread's exit). Grandchildren do not inherit it:
    // KillOrphans finds those by their environment.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);
    ::execve(sh.c_str(), argv, envp.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also in the parent, so the group exists before we may signal it
  ::close(log);
  if (devnull >= 0) ::close(devnull);
  return pid;
}

void Supervisor::Wait(double seconds) {
  if (g_pipe[0] >= 0 && seconds > 0) {
    pollfd p{g_pipe[0], POLLIN, 0};
    ::poll(&p, 1, static_cast<int>(seconds * 1000));
  }
  char buf[64];
  while (g_pipe[0] >= 0 && ::read(g_pipe[0], buf, sizeof buf) > 0) {
  }
  for (;;) {
    int st = 0;
    const pid_t pid = ::waitpid(-1, &st, WNOHANG);
    if (pid <= 0) break;
    ExitInfo e;
    if (WIFEXITED(st))
      e.code = WEXITSTATUS(st);
    else if (WIFSIGNALED(st))
      e.signal = WTERMSIG(st);
    exited_[pid] = e;
  }
}

std::optional<ExitInfo> Supervisor::TakeExit(pid_t pid) {
  auto it = exited_.find(pid);
  if (it == exited_.end()) return std::nullopt;
  ExitInfo e = it->second;
  exited_.erase(it);
  return e;
}

void Supervisor::SignalGroup(pid_t pgid, int sig) {
  if (pgid > 1) ::kill(-pgid, sig);
}

int Supervisor::KillOrphans(const std::string& root) {
  const std::string marker = "VQI_AGENT_ROOT=" + root;
  int killed = 0;
  DIR* d = ::opendir("/proc");
  if (!d) return 0;
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    const long pid = std::strtol(e->d_name, &end, 10);
    if (!end || *end || pid <= 1 || pid == ::getpid()) continue;
    const std::string path = "/proc/" + std::string(e->d_name) + "/environ";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    std::string env;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0 && env.size() < (1u << 20)) env.append(buf, n);
    ::close(fd);
    size_t pos = 0;
    bool match = false;
    while (pos < env.size()) {
      const size_t z = env.find('\0', pos);
      const std::string_view kv(env.data() + pos, (z == std::string::npos ? env.size() : z) - pos);
      if (kv == marker) match = true;
      if (z == std::string::npos) break;
      pos = z + 1;
    }
    if (!match) continue;
    const pid_t pgid = ::getpgid(static_cast<pid_t>(pid));
    if (pgid > 1 && pgid != ::getpgrp()) ::kill(-pgid, SIGKILL);
    ::kill(static_cast<pid_t>(pid), SIGKILL);
    ++killed;
  }
  ::closedir(d);
  return killed;
}

}  // namespace vqi::agent
