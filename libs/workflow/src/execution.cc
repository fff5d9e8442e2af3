// RunExecution: sets up the environment, runs the root machine, reports the result.
#include <thread>

#include "interp.h"
#include "vqi/base/system.h"

namespace vqi::workflow {
namespace {

class RealClockImpl : public Clock {
 public:
  int64_t NowMs() override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  bool SleepUntil(int64_t deadline_ms, const std::atomic<bool>* cancel) override {
    while (true) {
      if (cancel != nullptr && cancel->load()) return false;
      int64_t left = deadline_ms - NowMs();
      if (left <= 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(left, 50)));
    }
  }
};

class SkippingClock : public Clock {
 public:
  explicit SkippingClock(int64_t start) : now_(start) {}
  int64_t NowMs() override { return now_.load(); }
  bool SleepUntil(int64_t deadline_ms, const std::atomic<bool>* cancel) override {
    int64_t cur = now_.load();
    while (cur < deadline_ms && !now_.compare_exchange_weak(cur, deadline_ms)) {
    }
    return cancel == nullptr || !cancel->load();
  }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace

Clock& RealClock() {
  static RealClockImpl clock;
  return clock;
}

std::unique_ptr<Clock> NewSkippingClock(int64_t start_ms) {
  return std::make_unique<SkippingClock>(start_ms);
}

Json ExecutionResult::ToJson() const {
  Json j;
  j["status"] = status;
  if (status == "SUCCEEDED") {
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
  env.execution_id = !options.execution_id.empty()
                         ? options.execution_id
                         : "arn:aws:states:local:111111111111:execution:" +
                               options.state_machine_name + ":" + options.execution_name;
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
  step = RunMachine(env, *machine, input, root);
  done = true;
  if (watchdog.joinable()) watchdog.join();

  if (timed_out.load()) {
    result.status = "TIMED_OUT";
    result.error = "States.Timeout";
    result.cause = "The execution timed out (TimeoutSeconds)";
    env.AddEvent("ExecutionTimedOut", root.previous_event,
                 {{"error", "States.Timeout"}, {"cause", *result.cause}});
  } else if (step.failure && env.Cancelled() &&
             step.failure->error == std::optional<std::string>("States.Aborted")) {
    result.status = "ABORTED";
    result.error = step.failure->error;
    result.cause = step.failure->cause;
    env.AddEvent("ExecutionAborted", root.previous_event, Json::object());
  } else if (step.failure) {
    result.status = "FAILED";
    result.error = step.failure->error;
    result.cause = step.failure->cause;
    Json d = Json::object();
    if (result.error) d["error"] = *result.error;
    if (result.cause) d["cause"] = *result.cause;
    env.AddEvent("ExecutionFailed", root.previous_event, std::move(d));
  } else {
    result.status = "SUCCEEDED";
    result.output = std::move(step.output);
    env.AddEvent("ExecutionSucceeded", root.previous_event, {{"output", result.output}});
  }
  if (env.journal != nullptr) (void)env.journal->Sync();
  if (history != nullptr) *history = env.TakeHistory();
  return result;
}

}  // namespace vqi::workflow
