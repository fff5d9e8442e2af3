// Private: the running environment of one execution (LocalStack's eval/ part) and the
// common pieces every state type uses (payload templates, paths, Assign, Retry, Catch).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/workflow/definition.h"
#include "vqi/workflow/engine.h"
#include "vqi/workflow/journal.h"
#include "vqi/workflow/jsonpath.h"
#include "vqi/workflow/resources.h"

namespace vqi::workflow {

// An error as AWS reports it: both parts may be absent (a Fail state without Error).
struct Failure {
  std::optional<std::string> error, cause;
};
using MaybeFailure = std::optional<Failure>;

// Counts worker threads for Parallel/Map across one execution; never blocks (when no
// slot is free the caller runs the work itself), so nested fan-outs cannot deadlock.
class WorkerLimiter {
 public:
  explicit WorkerLimiter(int max) : free_(max) {}
  bool TryAcquire();
  void Release();

 private:
  std::atomic<int> free_;
};

// The execution-wide environment. Thread-safe where noted.
struct Env {
  std::shared_ptr<const StateMachine> machine;
  Json input;
  std::string execution_id, execution_name, state_machine_id, state_machine_name;
  std::string start_time;  // ISO-8601
  Clock* clock = nullptr;
  ResourceRegistry* resources = nullptr;
  Journal* journal = nullptr;
  const std::atomic<bool>* external_cancel = nullptr;
  std::atomic<bool> cancel{false};
  WorkerLimiter* workers = nullptr;
  std::function<void(const HistoryEvent&)> on_event;
  bool record_history = true;
  int64_t max_transitions = 0;
  std::atomic<int64_t> transitions{0};

  // History (thread-safe).
  int64_t AddEvent(const std::string& type, int64_t previous, Json details);
  std::vector<HistoryEvent> TakeHistory();
  // True once the history reached kMaxHistoryEvents: the execution must stop.
  bool HistoryFull() const { return history_full.load(); }
  bool Cancelled() const {
    return cancel.load() || (external_cancel != nullptr && external_cancel->load());
  }

  std::mutex mu;
  std::atomic<bool> history_full{false};
  int64_t next_event_id = 1;
  std::vector<HistoryEvent> history;
};

// A sequential run of states (the root, a Parallel branch, a Map iteration).
struct Frame {
  std::string key;  // stable journal prefix
  Json variables = Json::object();
  Json map_item;  // {"Index":..,"Value":..} inside Map iterations, else null
  int64_t previous_event = 0;
  std::map<std::string, int> visits;
  // Set when a sibling failed (Parallel/Map): the frame stops before its next state.
  const std::atomic<bool>* stop = nullptr;
  const Frame* parent = nullptr;
  bool Stopped() const {
    for (const Frame* f = this; f != nullptr; f = f->parent)
      if (f->stop != nullptr && f->stop->load()) return true;
    return false;
  }
};

// One visit of one state.
struct StateCtx {
  const State* state = nullptr;
  Frame* frame = nullptr;
  std::string key;  // frame key + "/" + name + "#" + visit
  int64_t entered_event = 0;
  int64_t entered_ms = 0;
  int retry_count = 0;
  std::string task_token;
  Json raw_input;
  mutable std::optional<Json> context;  // built on first use
};

// What a state returns: output and where to go, or a failure.
struct Step {
  Json output;
  std::string next;  // "" with end = true
  bool end = false;
  MaybeFailure failure;
  Json pending_assign;  // variables to set once the state completes (object or null)
  static Step Fail(Failure f) {
    Step s;
    s.failure = std::move(f);
    return s;
  }
};

std::string IsoTime(int64_t ms);
const Json& ContextObject(Env& env, const StateCtx& sc);

// "An error occurred while executing the state 'X' (entered at the event id #N). " + msg
Failure RuntimeFailure(const StateCtx& sc, const std::string& error, const std::string& msg);

// ---- JSONPath mode: paths, templates, intrinsics (payload.cc / intrinsics*.cc).
struct Scope {
  Env* env;
  const StateCtx* sc;
  const Json* input;
};
// Resolves a reference path ($.., $$.., $var..). nullopt when nothing matches.
Result<std::optional<Json>> ResolvePath(const Scope& scope, const std::string& path);
// Evaluates a payload template (keys ending in ".$" are paths or intrinsic calls).
MaybeFailure EvalTemplate(const Scope& scope, const Json& tmpl, Json* out);
// Evaluates "States.X(...)"; error cause in the returned Status.
Result<Json> EvalIntrinsic(const Scope& scope, const std::string& text);
bool LooksLikeIntrinsic(const std::string& s);
std::string JsonCompact(const Json& v);

// ---- JSONata mode (jsonata_bridge.cc).
// Evaluates `value` (a "{% %}" string, or an object/array holding some) for `field`.
MaybeFailure EvalJsonataValue(Env& env, const StateCtx& sc, const Json& value,
                              const std::string& field, const Json& states_extra, Json* out);
Status CheckJsonata(const std::string& expr);

// ---- the pipeline (pipeline.cc).
// InputPath (JSONPath) -> effective input.
MaybeFailure ApplyInputPath(Env& env, const StateCtx& sc, Json* effective);
// Parameters / Arguments -> task input.
MaybeFailure ApplyParameters(Env& env, const StateCtx& sc, const JsonField& field,
                             const std::string& name, const Json& effective, Json* out);
// ResultSelector, ResultPath, OutputPath (JSONPath) or Output (JSONata); evaluates Assign.
MaybeFailure FinishState(Env& env, const StateCtx& sc, Json result, Step* step);
// Assign evaluated against `result_scope` (JSONPath: the result; JSONata: $states.*).
MaybeFailure EvalAssign(Env& env, const StateCtx& sc, const JsonField& assign, const Json& result,
                        const Json& states_extra, Json* pending);

// ---- running states (interpreter.cc and state_*.cc).
// Runs a (sub)machine in `frame` from StartAt to its end.
Step RunMachine(Env& env, const StateMachine& machine, Json input, Frame& frame);
Step ExecutePass(Env& env, StateCtx& sc);
Step ExecuteChoice(Env& env, StateCtx& sc);
Step ExecuteWait(Env& env, StateCtx& sc);
Step ExecuteSucceed(Env& env, StateCtx& sc);
Step ExecuteFail(Env& env, StateCtx& sc);
Step ExecuteTask(Env& env, StateCtx& sc);
Step ExecuteParallel(Env& env, StateCtx& sc);
Step ExecuteMap(Env& env, StateCtx& sc);
// Runs `body` (one attempt of a Task/Parallel/Map) under the state's Retry and Catch.
Step WithRetryAndCatch(Env& env, StateCtx& sc, const std::function<Step(int attempt)>& body);
// WithRetryAndCatch, then the state's own Next/End unless a Catch chose where to go: the
// common ending of Task, Parallel and Map.
Step RunAttempts(Env& env, StateCtx& sc, const std::function<Step(int attempt)>& body);
// The state's result through FinishState (ResultSelector/ResultPath/OutputPath or Output,
// Assign) as a Step.
Step CompleteWith(Env& env, const StateCtx& sc, Json result);

// Choice rule evaluation (choice.cc). Returns the matched rule or nullptr.
Result<const ChoiceRule*> MatchChoice(Env& env, const StateCtx& sc, const Json& input);

// Runs fn(i) for i in [0, n) with at most `max_concurrency` at once (0 = unbounded) using
// the env's worker limiter; stops starting new items once `stop()` returns true.
void RunConcurrently(Env& env, size_t n, size_t max_concurrency,
                     const std::function<void(size_t)>& fn, const std::function<bool()>& stop);

}  // namespace vqi::workflow
