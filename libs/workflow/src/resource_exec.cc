// vqi:exec: runs a local program with the task input as JSON on stdin.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/workflow/resources.h"

namespace vqi::workflow {

TaskOutcome RunExecResource(const TaskRequest& req) {
  // Command from the input: {"Command": ["prog", "arg"...] | "prog", "Input": <stdin JSON>}.
  std::vector<std::string> argv;
  Json stdin_json = req.input;
  if (req.input.is_object() && req.input.contains("Command")) {
    const Json& c = req.input["Command"];
    if (c.is_string()) argv.push_back(c.get<std::string>());
    if (c.is_array())
      for (const Json& a : c)
        if (a.is_string()) argv.push_back(a.get<std::string>());
    stdin_json = req.input.contains("Input") ? req.input["Input"] : Json::object();
  }
  if (argv.empty())
    return TaskOutcome::Failure("vqi.Exec.BadRequest",
                                "vqi:exec needs \"Command\": [program, args...] in its input");
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe(in_pipe) != 0 || pipe(out_pipe) != 0 || pipe(err_pipe) != 0)
    return TaskOutcome::Failure("vqi.Exec.Failed", "pipe() failed");
  pid_t pid = fork();
  if (pid < 0) return TaskOutcome::Failure("vqi.Exec.Failed", "fork() failed");
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]})
      close(fd);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    setenv("VQI_IDEMPOTENCY_KEY", req.idempotency_key.c_str(), 1);
    if (!req.task_token.empty()) setenv("VQI_TASK_TOKEN", req.task_token.c_str(), 1);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  signal(SIGPIPE, SIG_IGN);
  std::string data = stdin_json.dump();
  size_t off = 0;
  while (off < data.size()) {
    ssize_t w = write(in_pipe[1], data.data() + off, data.size() - off);
    if (w <= 0) break;
    off += static_cast<size_t>(w);
  }
  close(in_pipe[1]);
  std::string out, err;
  auto start = std::chrono::steady_clock::now();
  bool timed_out = false;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    int r = poll(fds, 2, 100);
    if (r < 0) break;
    for (auto& p : fds) {
      if (p.fd < 0 || !(p.revents & (POLLIN | POLLHUP))) continue;
      char buf[4096];
      ssize_t n = read(p.fd, buf, sizeof buf);
      if (n <= 0) {
        close(p.fd);
        p.fd = -1;
        --open_fds;
      } else {
        (p.fd == out_pipe[0] ? out : err).append(buf, static_cast<size_t>(n));
      }
    }
    double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bool cancel = req.cancel != nullptr && req.cancel->load();
    if ((req.timeout_seconds > 0 && el > req.timeout_seconds) || cancel) {
      kill(pid, SIGKILL);
      timed_out = !cancel;
      for (auto& p : fds)
        if (p.fd >= 0) close(p.fd);
      break;
    }
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (timed_out) return TaskOutcome::Failure("States.Timeout", "");
  if (req.cancel != nullptr && req.cancel->load())
    return TaskOutcome::Failure("States.Aborted", "stopped");
  std::string tail = err.size() > 2000 ? err.substr(err.size() - 2000) : err;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  auto parsed = ParseJson(out.empty() ? "null" : out, "stdout");
  if (code != 0) {
    std::string error = "vqi.Exit." + std::to_string(code);
    if (parsed.ok() && parsed->is_object() && (*parsed)["Error"].is_string())
      error = (*parsed)["Error"].get<std::string>();
    return TaskOutcome::Failure(error, tail);
  }
  if (!parsed.ok())
    return TaskOutcome::Failure("vqi.Exec.BadOutput", "stdout is not JSON: " + parsed.status().message());
  return TaskOutcome::Success(*parsed);
}

}  // namespace vqi::workflow
