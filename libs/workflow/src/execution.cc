// RunExecution: sets up the environment, runs the root machine, reports the result.
#include <thread>

#include "interp.h"
#include "vqi/base/system.h"

namespace vqi::workflow {

std::unique_ptr<Clock> NewSkippingClock(int64_t start_ms) {
  return std::make_unique<FakeClock>(start_ms);
}

namespace {
constexpr std::pair<ExecutionStatus, const char*> kStatusNames[] = {
    {ExecutionStatus::kRunning, "RUNNING"},
    {ExecutionStatus::kSucceeded, "SUCCEEDED"},
    {ExecutionStatus::kFailed, "FAILED"},
    {ExecutionStatus::kTimedOut, "TIMED_OUT"},
    {ExecutionStatus::kAborted, "ABORTED"}};
}  // namespace

const char* ExecutionStatusName(ExecutionStatus s) {
  for (const auto& [v, n] : kStatusNames)
    if (v == s) return n;
  return "UNKNOWN";
}

std::optional<ExecutionStatus> ParseExecutionStatus(std::string_view name) {
  for (const auto& [v, n] : kStatusNames)
    if (name == n) return v;
  return std::nullopt;
}

Json ExecutionResult::ToJson() const {
  Json j;
  j["status"] = ExecutionStatusName(status);
  if (status == ExecutionStatus::kSucceeded) {
    j["output"] = output;
  } else {
    j["error"] = error ? Json(*error) : Json();
    j["cause"] = cause ? Json(*cause) : Json();
  }
  return j;
}

ExecutionResult RunExecution(const std::shared_ptr<const StateMachine>& machine, const Json& input,
                             const ExecutionOptions& options, std::vector<HistoryEvent>* history) {
  Env env;
  env.machine = machine;
  env.input = input;
  env.clock = options.clock != nullptr ? options.clock : &RealClock();
  env.resources = options.resources != nullptr ? options.resources : &DefaultResources();
  env.journal = options.journal;
  env.external_cancel = options.cancel;
  env.on_event = options.on_event;
  env.record_history = options.record_history && history != nullptr;
  env.max_transitions = options.max_transitions;
  env.execution_name = options.execution_name;
  env.state_machine_name = options.state_machine_name;
  env.state_machine_id =
      "arn:aws:states:local:111111111111:stateMachine:" + options.state_machine_name;
  env.execution_id =
      !options.execution_id.empty()
          ? options.execution_id
          : "arn:aws:states:local:111111111111:execution:" + options.state_machine_name + ":" +
                options.execution_name;
  int64_t start = options.start_time_ms != 0 ? options.start_time_ms : env.clock->NowMs();
  env.start_time = IsoTime(start);
  env.next_event_id = options.first_event_id;
  int workers = options.max_workers > 0 ? options.max_workers : std::max(4, HardwareThreads());
  WorkerLimiter limiter(workers - 1);
  env.workers = &limiter;

  if (options.first_event_id <= 1)
    env.AddEvent("ExecutionStarted", 0, {{"input", input}, {"name", env.execution_name}});
  Frame root;
  root.key = "";
  root.previous_event = env.next_event_id - 1;

  ExecutionResult result;
  Step step;
  // Machine-level TimeoutSeconds: a watchdog flips the cancel flag at the deadline.
  std::atomic<bool> timed_out{false};
  std::thread watchdog;
  std::atomic<bool> done{false};
  if (machine->timeout_seconds) {
    int64_t deadline = start + static_cast<int64_t>(*machine->timeout_seconds * 1000);
    watchdog = std::thread([&] {
      if (RealClock().SleepUntil(deadline, &done) && !done.load()) {
        timed_out = true;
        env.cancel = true;
      }
    });
  }
  // Anything thrown outside a state (e.g. a damaged journal record) fails the execution
  // instead of the process; states catch their own (interpreter.cc).
  try {
    step = RunMachine(env, *machine, input, root);
  } catch (const std::exception& e) {
    step = Step::Fail({"States.Runtime", std::string("internal engine error: ") + e.what()});
  }
  done = true;
  if (watchdog.joinable()) watchdog.join();

  if (timed_out.load()) {
    result.status = ExecutionStatus::kTimedOut;
    result.error = "States.Timeout";
    result.cause = "The execution timed out (TimeoutSeconds)";
    env.AddEvent("ExecutionTimedOut", root.previous_event,
                 {{"error", "States.Timeout"}, {"cause", *result.cause}});
  } else if (step.failure && env.Cancelled() &&
             step.failure->error == std::optional<std::string>("States.Aborted")) {
    result.status = ExecutionStatus::kAborted;
    result.error = step.failure->error;
    result.cause = step.failure->cause;
    env.AddEvent("ExecutionAborted", root.previous_event, Json::object());
  } else if (step.failure) {
    result.status = ExecutionStatus::kFailed;
    result.error = step.failure->error;
    result.cause = step.failure->cause;
    Json d = Json::object();
    if (result.error) d["error"] = *result.error;
    if (result.cause) d["cause"] = *result.cause;
    env.AddEvent("ExecutionFailed", root.previous_event, std::move(d));
  } else {
    result.status = ExecutionStatus::kSucceeded;
    result.output = std::move(step.output);
    env.AddEvent("ExecutionSucceeded", root.previous_event, {{"output", result.output}});
  }
  if (env.journal != nullptr) (void)env.journal->Sync();
  if (history != nullptr) *history = env.TakeHistory();
  return result;
}

}  // namespace vqi::workflow
