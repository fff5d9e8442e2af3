// Test support: starts `$VQI_BIN <args...>` as a child that dies with the test (SIGKILL on the
// parent's death), its stdout on a pipe the caller reads and its stderr in `err_path`. Shared
// by ServerProcess (server_process.h) and BrokerRun (broker_run.h).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace vqi::testing {

// The child's pid (and *out_fd, the read end of its stdout), or -1 when no pipe could be made.
inline pid_t SpawnVqiChild(std::vector<std::string> args, const std::string& err_path,
                           int* out_fd) {
  int out[2];
  if (::pipe(out) != 0) return -1;
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a crashed test
    ::dup2(out[1], 1);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err >= 0) ::dup2(err, 2);
    ::close(out[0]);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out[1]);
  *out_fd = out[0];
  return pid;
}

}  // namespace vqi::testing
