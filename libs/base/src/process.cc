// Child processes (see process.h).
#include "vqi/base/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>

extern char** environ;

namespace vqi {
namespace {

// The child's environment: the inherited one (unless told otherwise) with `env` on top.
std::vector<std::string> BuildEnv(const ProcessOptions& o) {
  std::map<std::string, std::string> vars;
  if (o.inherit_env)
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      std::string kv = *e;
      size_t eq = kv.find('=');
      vars[kv.substr(0, eq)] = kv;
    }
  for (const std::string& kv : o.env) vars[kv.substr(0, kv.find('='))] = kv;
  std::vector<std::string> out;
  for (auto& [k, kv] : vars) out.push_back(kv);
  return out;
}

void CloseFd(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

}  // namespace

Result<ProcessResult> RunProcess(const ProcessOptions& o) {
  if (o.argv.empty() || o.argv[0].empty()) return InvalidArgument("RunProcess: empty argv");
  // A child that stops reading its stdin must not kill this process with SIGPIPE: writes
  // then fail with EPIPE instead (process-wide, set once).
  static const bool kNoSigpipe = [] {
    signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)kNoSigpipe;
  std::vector<std::string> env = BuildEnv(o);
  std::vector<char*> argv, envp;
  for (const std::string& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  int in[2], out[2], err[2], status_pipe[2];
  if (pipe2(in, O_CLOEXEC) != 0) return Unavailable("pipe: " + std::string(strerror(errno)));
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 ||
      pipe2(status_pipe, O_CLOEXEC) != 0)
    return Unavailable("pipe: " + std::string(strerror(errno)));
  pid_t pid = fork();
  if (pid < 0) return Unavailable("fork: " + std::string(strerror(errno)));
  if (pid == 0) {
    // Child: only async-signal-safe calls from here to exec.
    setpgid(0, 0);
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    int e = 0;
    if (!o.working_dir.empty() && chdir(o.working_dir.c_str()) != 0) {
      e = errno;
    } else {
      execvpe(argv[0], argv.data(), envp.data());
      e = errno;
    }
    ssize_t w = write(status_pipe[1], &e, sizeof e);
    (void)w;
    _exit(127);
  }
  setpgid(pid, pid);  // also in the parent: no race with the kill below
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  ::close(status_pipe[1]);
  int exec_errno = 0;
  ssize_t got = read(status_pipe[0], &exec_errno, sizeof exec_errno);
  ::close(status_pipe[0]);
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    int st;
    waitpid(pid, &st, 0);
    std::string what = "cannot run '" + o.argv[0] + "'" +
                       (o.working_dir.empty() ? "" : " in " + o.working_dir) + ": " +
                       strerror(exec_errno);
    if (exec_errno == ENOENT || exec_errno == ENOTDIR) return NotFound(what);
    if (exec_errno == EACCES || exec_errno == EPERM) return PermissionDenied(what);
    return Unavailable(what);
  }

  ProcessResult r;
  int in_fd = in[1], out_fd = out[0], err_fd = err[0];
  fcntl(in_fd, F_SETFL, O_NONBLOCK);
  size_t in_off = 0;
  if (o.stdin_data.empty()) CloseFd(&in_fd);
  auto start = std::chrono::steady_clock::now();
  auto append = [&](int fd, std::string* to, bool* truncated) {
    char buf[65536];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    size_t room = o.max_output_bytes > to->size() ? o.max_output_bytes - to->size() : 0;
    size_t take = std::min(room, static_cast<size_t>(n));
    to->append(buf, take);
    if (take < static_cast<size_t>(n)) *truncated = true;
    return true;
  };
  while (out_fd >= 0 || err_fd >= 0) {
    pollfd fds[3];
    int nfds = 0;
    int out_i = -1, err_i = -1, in_i = -1;
    if (out_fd >= 0) out_i = nfds, fds[nfds++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0) err_i = nfds, fds[nfds++] = {err_fd, POLLIN, 0};
    if (in_fd >= 0) in_i = nfds, fds[nfds++] = {in_fd, POLLOUT, 0};
    int pr = poll(fds, static_cast<nfds_t>(nfds), 50);
    if (pr < 0 && errno != EINTR) break;
    if (pr > 0) {
      if (out_i >= 0 && (fds[out_i].revents & (POLLIN | POLLHUP | POLLERR)) &&
          !append(out_fd, &r.out, &r.out_truncated))
        CloseFd(&out_fd);
      if (err_i >= 0 && (fds[err_i].revents & (POLLIN | POLLHUP | POLLERR)) &&
          !append(err_fd, &r.err, &r.err_truncated))
        CloseFd(&err_fd);
      if (in_i >= 0 && (fds[in_i].revents & (POLLOUT | POLLERR | POLLHUP))) {
        ssize_t w = write(in_fd, o.stdin_data.data() + in_off, o.stdin_data.size() - in_off);
        if (w > 0) in_off += static_cast<size_t>(w);
        if (w < 0 && errno != EAGAIN) CloseFd(&in_fd);  // EPIPE: the child stopped reading
        if (in_off >= o.stdin_data.size()) CloseFd(&in_fd);
      }
    }
    double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bool cancel = o.cancel != nullptr && o.cancel->load();
    if ((o.timeout_seconds > 0 && el > o.timeout_seconds) || cancel) {
      kill(-pid, SIGKILL);
      r.timed_out = !cancel;
      r.cancelled = cancel;
      break;
    }
  }
  CloseFd(&in_fd);
  CloseFd(&out_fd);
  CloseFd(&err_fd);
  // Wait for the child without reaping it (its pid, and so its group id, stay reserved),
  // kill whatever it left running in its group, then reap it.
  siginfo_t info;
  while (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR) {
  }
  kill(-pid, SIGKILL);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(st)) r.exit_code = WEXITSTATUS(st);
  if (WIFSIGNALED(st)) r.signal = WTERMSIG(st);
  return r;
}

}  // namespace vqi
