// Durable executions on top of the store: start, resume, describe.
#pragma once

#include <string>

#include "vqi/workflow/engine.h"
#include "vqi/workflow/store.h"

namespace vqi::workflow {

struct DurableOptions {
  Clock* clock = nullptr;
  int max_workers = 0;
  std::string state_machine_name = "StateMachine";
  // Called once the execution record exists (e.g. to print its id before it finishes).
  std::function<void(const ExecutionRecord&)> on_created;
};

// Validates `definition_text`, records the execution, then runs it to its end.
Result<ExecutionResult> StartExecution(ExecutionStore& store, const std::string& definition_text,
                                       const Json& input, const std::string& name,
                                       const DurableOptions& options);
// Continues a RUNNING execution from its journal (returns the stored result otherwise).
Result<ExecutionResult> ResumeExecution(ExecutionStore& store, const ExecutionRecord& record,
                                        const DurableOptions& options);
// A readable state-by-state view of an execution's history.
std::string DescribeExecution(const ExecutionRecord& record,
                              const std::vector<HistoryEvent>& history);

}  // namespace vqi::workflow
