// The state loop: runs a (sub)machine state by state, emitting history events and
// recording each completed visit in the journal (replayed instead of re-run on resume).
#include <exception>
#include <new>
#include <thread>

#include "interp.h"
#include "vqi/base/system.h"
#include "vqi/workflow/limits.h"

namespace vqi::workflow {

bool WorkerLimiter::TryAcquire() {
  int f = free_.load();
  while (f > 0)
    if (free_.compare_exchange_weak(f, f - 1)) return true;
  return false;
}
void WorkerLimiter::Release() { free_.fetch_add(1); }

int64_t Env::AddEvent(const std::string& type, int64_t previous, Json details) {
  std::lock_guard<std::mutex> lock(mu);
  // AWS: event 25,000 may only be ExecutionSucceeded (or the execution's own end); past
  // 24,999 events the execution stops and RunExecution records its failure.
  bool terminal = type.rfind("Execution", 0) == 0 && type != "ExecutionStarted";
  if (!terminal && next_event_id >= kMaxHistoryEvents) {
    history_full = true;
    return next_event_id - 1;
  }
  HistoryEvent e;
  e.id = next_event_id++;
  if (!record_history && !on_event && journal == nullptr) return e.id;
  e.previous_event_id = previous;
  e.type = type;
  e.timestamp_ms = clock->NowMs();
  e.details = std::move(details);
  if (on_event) on_event(e);
  if (journal != nullptr) journal->AppendEvent(e);
  if (record_history) history.push_back(std::move(e));
  return next_event_id - 1;
}

std::vector<HistoryEvent> Env::TakeHistory() {
  std::lock_guard<std::mutex> lock(mu);
  return std::move(history);
}

void RunConcurrently(Env& env, size_t n, size_t max_concurrency,
                     const std::function<void(size_t)>& fn, const std::function<bool()>& stop) {
  std::atomic<size_t> next{0};
  auto worker = [&] {
    while (!stop()) {
      size_t i = next.fetch_add(1);
      if (i >= n) break;
      fn(i);
    }
  };
  size_t want = max_concurrency == 0 ? n : std::min(n, max_concurrency);
  std::vector<std::thread> threads;
  for (size_t k = 1; k < want; ++k) {
    if (!env.workers->TryAcquire()) break;
    threads.emplace_back([&] {
      worker();
      env.workers->Release();
    });
  }
  worker();
  for (auto& t : threads) t.join();
}

namespace {

Step Dispatch(Env& env, StateCtx& sc) {
  switch (sc.state->type) {
    case StateType::kPass:
      return ExecutePass(env, sc);
    case StateType::kChoice:
      return ExecuteChoice(env, sc);
    case StateType::kWait:
      return ExecuteWait(env, sc);
    case StateType::kSucceed:
      return ExecuteSucceed(env, sc);
    case StateType::kFail:
      return ExecuteFail(env, sc);
    case StateType::kTask:
      return ExecuteTask(env, sc);
    case StateType::kParallel:
      return ExecuteParallel(env, sc);
    case StateType::kMap:
      return ExecuteMap(env, sc);
  }
  return Step::Fail({"States.Runtime", "unknown state type"});
}

Json FailureJson(const Failure& f) {
  Json j = Json::object();
  j["error"] = f.error ? Json(*f.error) : Json();
  j["cause"] = f.cause ? Json(*f.cause) : Json();
  return j;
}

// Runs one state, turning anything thrown inside the engine (a bug, or memory running out)
// into a States.Runtime failure instead of ending the process with the execution RUNNING.
Step SafeDispatch(Env& env, StateCtx& sc) {
  try {
    return Dispatch(env, sc);
  } catch (const std::bad_alloc&) {
    return Step::Fail(RuntimeFailure(sc, "States.Runtime", "the engine ran out of memory"));
  } catch (const std::exception& e) {
    return Step::Fail(
        RuntimeFailure(sc, "States.Runtime", std::string("internal engine error: ") + e.what()));
  }
}

Failure HistoryFull() {
  return {"States.Runtime", "The execution reached the maximum number of history events (" +
                                std::to_string(kMaxHistoryEvents) + ")."};
}

Failure FailureFromJson(const Json& j) {
  Failure f;
  if (j.contains("error") && j["error"].is_string()) f.error = j["error"].get<std::string>();
  if (j.contains("cause") && j["cause"].is_string()) f.cause = j["cause"].get<std::string>();
  return f;
}

}  // namespace

Step RunMachine(Env& env, const StateMachine& machine, Json input, Frame& frame) {
  std::string cur = machine.start_at;
  bool first = true;
  while (true) {
    if (env.HistoryFull()) return Step::Fail(HistoryFull());
    if (env.Cancelled()) return Step::Fail({"States.Aborted", "The execution was stopped"});
    if (frame.Stopped()) return Step::Fail({"States.BranchCancelled", "a sibling failed"});
    if (env.max_transitions > 0 && ++env.transitions > env.max_transitions)
      return Step::Fail({"States.Runtime", "The execution exceeded its transition limit"});
    const State& st = machine.states.at(cur);
    int visit = ++frame.visits[cur];
    StateCtx sc;
    sc.state = &st;
    sc.frame = &frame;
    sc.key = frame.key + "/" + cur + "#" + std::to_string(visit);
    if (env.journal != nullptr) {
      if (std::optional<Json> rec = env.journal->Lookup(sc.key)) {
        if (rec->contains("failure")) return Step::Fail(FailureFromJson((*rec)["failure"]));
        if ((*rec)["assign"].is_object())
          for (auto& [k, v] : (*rec)["assign"].items()) frame.variables[k] = v;
        frame.previous_event = (*rec)["event"].get<int64_t>();
        if ((*rec)["end"].get<bool>()) {
          Step s;
          s.output = std::move((*rec)["output"]);
          s.end = true;
          return s;
        }
        cur = (*rec)["next"].get<std::string>();
        input = std::move((*rec)["output"]);
        continue;
      }
    }
    std::string why;
    if (first && !PayloadWithinLimits(input, &why, "The state input"))
      return Step::Fail({kDataLimitExceeded, "State '" + cur + "': " + why});
    first = false;
    sc.raw_input = std::move(input);
    sc.entered_ms = env.clock->NowMs();
    std::string type = StateTypeName(st.type);
    Json details = {{"name", cur}};
    if (env.record_history || env.journal != nullptr) details["input"] = sc.raw_input;
    sc.entered_event =
        env.AddEvent(type + "StateEntered", frame.previous_event, std::move(details));
    frame.previous_event = sc.entered_event;
    Step step = SafeDispatch(env, sc);
    if (!step.failure && !PayloadWithinLimits(step.output, &why, "The state output"))
      step = Step::Fail(RuntimeFailure(sc, kDataLimitExceeded, why));
    if (!step.failure && step.pending_assign.is_object() &&
        !PayloadWithinLimits(step.pending_assign, &why, "The assigned variables"))
      step = Step::Fail(RuntimeFailure(sc, kDataLimitExceeded, why));
    if (env.HistoryFull()) return Step::Fail(HistoryFull());
    if (step.failure) {
      if (env.journal != nullptr &&
          step.failure->error != std::optional<std::string>("States.Aborted"))
        env.journal->Record(sc.key, {{"failure", FailureJson(*step.failure)}});
      return step;
    }
    if (step.pending_assign.is_object())
      for (auto& [k, v] : step.pending_assign.items()) frame.variables[k] = v;
    if (st.type != StateType::kFail) {
      Json ex = {{"name", cur}};
      if (env.record_history || env.journal != nullptr) ex["output"] = step.output;
      frame.previous_event =
          env.AddEvent(type + "StateExited", frame.previous_event, std::move(ex));
    }
    if (env.journal != nullptr) {
      env.journal->Record(sc.key, {{"output", step.output},
                                   {"next", step.next},
                                   {"end", step.end},
                                   {"assign", step.pending_assign},
                                   {"event", frame.previous_event}});
    }
    if (step.end) return step;
    cur = step.next;
    input = std::move(step.output);
  }
}

}  // namespace vqi::workflow
