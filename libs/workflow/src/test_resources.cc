// The test task resource `vqi:test:<op>`, for process-level tests only: it is compiled into
// the test build of the command line (vqi_workflow_cli), never into the `vqi` program, and
// registers itself into DefaultResources() when that binary starts.
//
// Ops: echo, sleep ("Seconds"), fail ("Error"/"Cause"), flaky ("FailTimes": fail attempts
// before this many), token (returns the callback token; appends it to
// $VQI_WORKFLOW_TOKEN_FILE). Every completed invocation is appended to
// $VQI_WORKFLOW_TEST_LOG (one JSON line) and deduplicated by the attempt's idempotency key, so
// a completed attempt never runs twice.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "vqi/base/json.h"
#include "vqi/workflow/resources.h"

namespace vqi::workflow {
namespace {

std::mutex g_log_mu;

// The completed outcome logged for `key`, if any.
std::optional<Json> LoggedOutcome(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  std::optional<Json> found;
  while (std::getline(in, line)) {
    auto j = ParseJson(line);
    if (j.ok() && j->value("key", "") == key) found = *j;
  }
  return found;
}

void AppendLog(const std::string& path, const Json& entry) {
  std::string line = entry.dump() + "\n";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) return;
  ssize_t w = ::write(fd, line.data(), line.size());
  (void)w;
  ::fsync(fd);
  ::close(fd);
}

// vqi:test:<op>. Input fields: "Seconds" (sleep), "FailTimes" (flaky: fail attempts
// before this many), "Error"/"Cause" (fail).
TaskOutcome TestResource(const TaskRequest& req) {
  std::string op = req.resource.size() > 9 ? req.resource.substr(9) : "echo";
  const char* log = std::getenv("VQI_WORKFLOW_TEST_LOG");
  std::lock_guard<std::mutex> lock(g_log_mu);
  if (log != nullptr) {
    if (auto done = LoggedOutcome(log, req.idempotency_key)) {
      if ((*done)["ok"].get<bool>()) return TaskOutcome::Success((*done)["output"]);
      return TaskOutcome::Failure((*done)["error"].get<std::string>(),
                                  (*done)["cause"].get<std::string>());
    }
  }
  TaskOutcome out;
  const Json& in = req.input;
  if (op == "echo") {
    out = TaskOutcome::Success(in);
  } else if (op == "sleep") {
    double s = in.is_object() ? in.value("Seconds", 0.0) : 0.0;
    auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(s);
    while (std::chrono::steady_clock::now() < end) {
      if (req.cancel != nullptr && req.cancel->load())
        return TaskOutcome::Failure("States.Aborted", "stopped");
      if (req.timeout_seconds > 0 && s > req.timeout_seconds) {
        std::this_thread::sleep_for(std::chrono::duration<double>(req.timeout_seconds));
        return TaskOutcome::Failure("States.Timeout", "");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    out = TaskOutcome::Success(in);
  } else if (op == "fail") {
    out = TaskOutcome::Failure(in.is_object() ? in.value("Error", "TestError") : "TestError",
                               in.is_object() ? in.value("Cause", "test failure") : "test failure");
  } else if (op == "flaky") {
    // Attempt number is the suffix of the idempotency key ("...@<attempt>").
    size_t at = req.idempotency_key.rfind('@');
    int attempt = at == std::string::npos ? 0 : std::atoi(req.idempotency_key.c_str() + at + 1);
    int fail_times = in.is_object() ? in.value("FailTimes", 1) : 1;
    if (attempt < fail_times)
      out = TaskOutcome::Failure("Test.Flaky", "attempt " + std::to_string(attempt) + " failed");
    else
      out = TaskOutcome::Success(in);
  } else if (op == "token") {
    out = TaskOutcome::Success({{"token", req.task_token}});
    if (const char* f = std::getenv("VQI_WORKFLOW_TOKEN_FILE")) {
      std::ofstream t(f, std::ios::app);
      t << req.task_token << "\n";
    }
  } else {
    return TaskOutcome::Failure("States.Runtime", "unknown test operation '" + op + "'");
  }
  if (log != nullptr)
    AppendLog(log, {{"key", req.idempotency_key},
                    {"op", op},
                    {"ok", out.ok},
                    {"output", out.output},
                    {"error", out.error},
                    {"cause", out.cause}});
  return out;
}

const bool kRegistered = [] {
  DefaultResources().Register("vqi:test", TestResource);
  return true;
}();

}  // namespace
}  // namespace vqi::workflow
