// Test helpers: run the `vqi` binary as a child process, capture stdout, kill it.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace vqi::workflow::testing {

// The workflow CLI: the `vqi` main with the workflow verbs (built beside the tests), else
// $VQI_BIN.
inline std::string VqiBin() {
#ifdef VQI_WORKFLOW_CLI
  return VQI_WORKFLOW_CLI;
#else
  const char* b = std::getenv("VQI_BIN");
  return b == nullptr ? "" : b;
#endif
}

struct Child {
  pid_t pid = -1;
  std::string out_path;
};

// Starts `argv` with stdout to `out_path` and extra environment `env` ("K=V").
inline Child Spawn(const std::vector<std::string>& argv, const std::string& out_path,
                   const std::vector<std::string>& env = {}) {
  Child c;
  c.out_path = out_path;
  c.pid = fork();
  if (c.pid == 0) {
    int fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 2);
    for (const std::string& e : env) putenv(const_cast<char*>(e.c_str()));
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return c;
}

// Waits for the child; returns its exit code (128 + signal when killed).
inline int Wait(const Child& c) {
  int status = 0;
  waitpid(c.pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace vqi::workflow::testing
