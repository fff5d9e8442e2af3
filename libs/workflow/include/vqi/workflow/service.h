// Durable executions on top of the store: start, resume, describe.
#pragma once

#include <functional>
#include <string>

#include "vqi/workflow/engine.h"
#include "vqi/workflow/store.h"

namespace vqi::workflow {

struct DurableOptions {
  Clock* clock = nullptr;
  ResourceRegistry* resources = nullptr;  // default: DefaultResources()
  int max_workers = 0;
  std::string state_machine_name = "StateMachine";
  // Called once the execution record exists (e.g. to print its id before it finishes).
  std::function<void(const ExecutionRecord&)> on_created;
  // The lease this process holds while it runs an execution; renewed every lease_ms / 3.
  // Another process may take the execution over lease_ms after this one stops renewing
  // (at once when this process is gone and on the same host).
  int64_t lease_ms = 30000;
};

// Takeovers after which an execution is marked FAILED instead of run again: each one means
// the process running it died (docs/limits.md), e.g. a crash the engine could not turn into
// an error; failing it keeps one bad execution from taking every later resume down with it.
inline constexpr int kMaxTakeovers = 5;

// Validates `definition_text`, records the execution, then runs it to its end.
Result<ExecutionResult> StartExecution(ExecutionStore& store, const std::string& definition_text,
                                       const Json& input, const std::string& name,
                                       const DurableOptions& options);
// Continues a RUNNING execution from its journal (returns the stored result otherwise).
// FailedPrecondition when another live process holds its lease. An execution the engine
// cannot run (its stored definition or journal is refused, or it hit kMaxTakeovers) is
// marked FAILED with the reason (States.Runtime) and that result returned.
Result<ExecutionResult> ResumeExecution(ExecutionStore& store, const ExecutionRecord& record,
                                        const DurableOptions& options);
// A readable state-by-state view of an execution's history.
std::string DescribeExecution(const ExecutionRecord& record,
                              const std::vector<HistoryEvent>& history);

}  // namespace vqi::workflow
