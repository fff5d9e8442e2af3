// Running executions: the interpreter entry points, the clock seam and execution results.
//
// Thread-safety: RunExecution may be called from many threads at once; each call owns its
// execution. Parallel branches and Map iterations run on a bounded set of worker threads.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/clock.h"
#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/workflow/definition.h"

namespace vqi::workflow {

class ResourceRegistry;
class Journal;

// The clock seam lives in libs/base (vqi/base/clock.h); these names keep the workflow API.
using vqi::Clock;
using vqi::RealClock;
// A clock that never sleeps: SleepUntil() advances its own time to the deadline.
std::unique_ptr<Clock> NewSkippingClock(int64_t start_ms);

// One Step Functions-style history event.
struct HistoryEvent {
  int64_t id = 0;
  int64_t previous_event_id = 0;
  std::string type;  // e.g. "PassStateEntered"
  int64_t timestamp_ms = 0;
  Json details;  // e.g. {"name": "..", "input": ..}
};

// The status of an execution, as AWS names it (ExecutionStatusName).
enum class ExecutionStatus { kRunning, kSucceeded, kFailed, kTimedOut, kAborted };
// "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED".
const char* ExecutionStatusName(ExecutionStatus s);
// The status named `name` (as ExecutionStatusName prints it), or nullopt.
std::optional<ExecutionStatus> ParseExecutionStatus(std::string_view name);

struct ExecutionResult {
  ExecutionStatus status = ExecutionStatus::kFailed;  // never kRunning
  Json output;                                        // when SUCCEEDED
  std::optional<std::string> error, cause;
  // {"status":..,"output":..} or {"status":..,"error":..,"cause":..}: the `run --local` line.
  Json ToJson() const;
};

struct ExecutionOptions {
  std::string execution_name = "local";
  std::string state_machine_name = "StateMachine";
  std::string execution_id;               // default: derived ARN
  Clock* clock = nullptr;                 // default RealClock()
  ResourceRegistry* resources = nullptr;  // default: built-ins
  Journal* journal = nullptr;             // durability (null: in memory only)
  int max_workers = 0;                    // Parallel/Map worker threads (0: hardware threads)
  bool record_history = true;
  const std::atomic<bool>* cancel = nullptr;  // set to stop the execution (ABORTED)
  // Receives every history event as it is appended (may be called from worker threads).
  std::function<void(const HistoryEvent&)> on_event;
  int64_t first_event_id = 1;   // resume: continue numbering after stored events
  int64_t start_time_ms = 0;    // resume: the original start time
  int64_t max_transitions = 0;  // > 0: fail with States.Runtime beyond this many states
};

// Runs one execution of `machine` to its end.
ExecutionResult RunExecution(const std::shared_ptr<const StateMachine>& machine, const Json& input,
                             const ExecutionOptions& options,
                             std::vector<HistoryEvent>* history = nullptr);

}  // namespace vqi::workflow
