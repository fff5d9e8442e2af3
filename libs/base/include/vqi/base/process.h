// Child processes: run a program with arguments, environment, working directory and stdin,
// capture its stdout/stderr (each up to a cap), stop it at a timeout or on request, and kill
// its whole process group so no grandchild outlives it.
//
// Thread-safety: RunProcess may be called from many threads at once. The child is prepared
// before fork() (argv, environment) and only async-signal-safe calls run between fork and exec.
#pragma once

#include <atomic>
#include <cstddef>
#include <string>
#include <vector>

#include "vqi/base/status.h"

namespace vqi {

struct ProcessOptions {
  std::vector<std::string> argv;      // argv[0] is looked up on PATH when it has no '/'
  std::vector<std::string> env;       // "K=V" entries set on top of the inherited environment
  bool inherit_env = true;            // false: the child sees only `env`
  std::string working_dir;            // "" = the caller's
  std::string stdin_data;             // written to the child's stdin, which is then closed
  double timeout_seconds = 0;         // 0 = none; at the deadline the process group is killed
  size_t max_output_bytes = 1 << 20;  // per stream; the rest is read and dropped
  const std::atomic<bool>* cancel = nullptr;  // set to kill the process group early
};

struct ProcessResult {
  int exit_code = -1;  // the exit status when the child exited, else -1
  int signal = 0;      // the signal that ended it, else 0
  bool timed_out = false;
  bool cancelled = false;
  std::string out, err;
  bool out_truncated = false, err_truncated = false;
  bool ok() const { return exit_code == 0; }
};

// Runs the program to its end (or its timeout/cancel). Errors only when it could not be
// started: NotFound (no such program), PermissionDenied, InvalidArgument (empty argv),
// Unavailable (pipe/fork failed). A program that ran and failed is a ProcessResult.
Result<ProcessResult> RunProcess(const ProcessOptions& options);

}  // namespace vqi
