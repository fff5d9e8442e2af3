// Task resources: a registry from resource URI (prefix) to handler.
//
// Built-ins (RegisterBuiltins):
//   vqi:exec        runs a program: Parameters {"Command": [argv...]} (or "Command": "path"),
//                   the task input as JSON on stdin, JSON on stdout is the result; a non-zero
//                   exit code N fails the task with error "vqi.Exit.N" (or the "Error" field of
//                   a JSON object printed on stdout), cause = stderr tail.
// Any resource may end in ".waitForTaskToken": the handler runs, then the task waits for
// `vqi workflow task-success|task-failure --token` (see Journal callbacks).
// Test resources are not built in: tests register their own (the process-level tests' CLI
// build adds `vqi:test:*`, src/test_resources.cc).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "vqi/base/json.h"

namespace vqi::workflow {

struct TaskRequest {
  std::string resource;         // without ".waitForTaskToken"
  Json input;                   // the effective task input (after Parameters/Arguments)
  std::string idempotency_key;  // execution id + state visit + attempt
  std::string task_token;       // non-empty for callback tasks
  double timeout_seconds = 0;   // 0: none
  const std::atomic<bool>* cancel = nullptr;
};

struct TaskOutcome {
  bool ok = false;
  Json output;
  std::string error, cause;
  static TaskOutcome Success(Json out) { return {true, std::move(out), "", ""}; }
  static TaskOutcome Failure(std::string e, std::string c) {
    return {false, nullptr, std::move(e), std::move(c)};
  }
};

using TaskHandler = std::function<TaskOutcome(const TaskRequest&)>;

// Thread-safe.
class ResourceRegistry {
 public:
  // `prefix` matches a resource equal to it or starting with `prefix + ":"`.
  void Register(const std::string& prefix, TaskHandler handler);
  // The handler of the longest matching prefix, or nullptr.
  const TaskHandler* Find(const std::string& resource) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, TaskHandler> handlers_;
};

void RegisterBuiltins(ResourceRegistry& registry);
ResourceRegistry& DefaultResources();

}  // namespace vqi::workflow
