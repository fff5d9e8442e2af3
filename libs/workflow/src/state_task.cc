// Task: resolves the resource handler, runs one attempt per Retry round with an
// idempotency key (execution id + state visit + attempt), journals "scheduled" before
// the call and the outcome after it; callback tasks wait for their token.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <thread>

#include "interp.h"
#include "vqi/base/hash.h"
#include "vqi/workflow/limits.h"

namespace vqi::workflow {
namespace {

constexpr const char* kCallbackSuffix = ".waitForTaskToken";

MaybeFailure Seconds(Env& env, const StateCtx& sc, const Json& eff, const JsonField& field,
                     const std::string& path, const char* name, double* out) {
  if (field.present) {
    Json v = field.value;
    if (auto f = EvalJsonataValue(env, sc, field.value, name, Json(), &v)) return f;
    if (!v.is_number() || v.get<double>() <= 0)
      return RuntimeFailure(sc, "States.Runtime",
                            std::string("The ") + name + " field must be a positive integer");
    *out = v.get<double>();
  } else if (!path.empty()) {
    Scope scope{&env, &sc, &eff};
    auto r = ResolvePath(scope, path);
    if (!r.ok() || !r->has_value() || !(*r)->is_number() || (*r)->get<double>() <= 0)
      return RuntimeFailure(sc, "States.Runtime",
                            std::string("The ") + name +
                                "Path field must reference a positive "
                                "integer: " +
                                path);
    *out = (*r)->get<double>();
  }
  return std::nullopt;
}

// Waits for task-success / task-failure on `token`, enforcing timeout and heartbeat. Blocks on
// the journal's change notification (woken when another process commits to the store, or a stop
// is requested) instead of re-reading on a timer; the safety wake only covers a lost
// notification, so a missed wake delays the callback by at most kSafetyWake.
TaskOutcome AwaitCallback(Env& env, const std::string& token, double timeout_s,
                          double heartbeat_s) {
  constexpr auto kSafetyWake = std::chrono::milliseconds(2000);
  using Clock = std::chrono::steady_clock;
  auto start = Clock::now();
  auto last_beat = start;
  int64_t seen_beat = 0;
  while (true) {
    // Read the count before the state: a change committed after the read below raises it,
    // so AwaitChange returns at once instead of missing it.
    const uint64_t seen = env.journal->ChangeCount();
    if (env.Cancelled()) return TaskOutcome::Failure("States.Aborted", "The execution was stopped");
    std::optional<Json> st = env.journal->PollToken(token);
    if (st) {
      std::string s = st->value("status", "");
      if (s == "SUCCEEDED") return TaskOutcome::Success(st->value("output", Json()));
      if (s == "FAILED")
        return TaskOutcome::Failure(st->value("error", ""), st->value("cause", ""));
      int64_t beat = st->value("heartbeat_ms", int64_t{0});
      if (beat != seen_beat) {
        seen_beat = beat;
        last_beat = Clock::now();
      }
    }
    auto now = Clock::now();
    double since_start = std::chrono::duration<double>(now - start).count();
    double since_beat = std::chrono::duration<double>(now - last_beat).count();
    if (heartbeat_s > 0 && since_beat > heartbeat_s)
      return TaskOutcome::Failure("States.HeartbeatTimeout", "");
    if (timeout_s > 0 && since_start > timeout_s) return TaskOutcome::Failure("States.Timeout", "");
    auto wait = kSafetyWake;
    auto until = [&](double left_s) {
      auto ms = std::chrono::milliseconds(static_cast<int64_t>(std::ceil(left_s * 1000)) + 1);
      wait = std::min(wait, std::max(ms, std::chrono::milliseconds(1)));
    };
    if (heartbeat_s > 0) until(heartbeat_s - since_beat);
    if (timeout_s > 0) until(timeout_s - since_start);
    env.journal->AwaitChange(seen, wait);
  }
}

}  // namespace

void Journal::AwaitChange(uint64_t, std::chrono::milliseconds max) {
  std::this_thread::sleep_for(std::min(max, std::chrono::milliseconds(50)));
}

Step ExecuteTask(Env& env, StateCtx& sc) {
  const State& st = *sc.state;
  bool jsonata = st.query_language == QueryLanguage::kJsonata;
  Json eff;
  if (auto f = ApplyInputPath(env, sc, &eff)) return Step::Fail(*f);
  double timeout_s = 0, heartbeat_s = 0;
  if (auto f = Seconds(env, sc, eff, st.timeout_seconds, st.timeout_seconds_path, "TimeoutSeconds",
                       &timeout_s))
    return Step::Fail(*f);
  if (auto f = Seconds(env, sc, eff, st.heartbeat_seconds, st.heartbeat_seconds_path,
                       "HeartbeatSeconds", &heartbeat_s))
    return Step::Fail(*f);
  std::string resource = st.resource;
  bool callback = resource.size() > std::strlen(kCallbackSuffix) &&
                  resource.compare(resource.size() - std::strlen(kCallbackSuffix),
                                   std::string::npos, kCallbackSuffix) == 0;
  if (callback) resource.resize(resource.size() - std::strlen(kCallbackSuffix));

  return RunAttempts(env, sc, [&](int attempt) -> Step {
    std::string key = sc.key + "@" + std::to_string(attempt);
    if (callback) {
      sc.task_token = Sha256Hex(env.execution_id + "|" + key).substr(0, 40);
      sc.context.reset();
    }
    Json task_input;
    if (auto f = ApplyParameters(env, sc, jsonata ? st.arguments : st.parameters,
                                 jsonata ? "Arguments" : "Parameters", eff, &task_input))
      return Step::Fail(*f);
    std::string why;
    if (!PayloadWithinLimits(task_input, &why, "The task input"))
      return Step::Fail(RuntimeFailure(sc, kDataLimitExceeded, why));
    TaskOutcome outcome;
    std::optional<Json> recorded;
    if (env.journal != nullptr) recorded = env.journal->Lookup(key + "/outcome");
    if (recorded) {
      outcome.ok = (*recorded)["ok"].get<bool>();
      outcome.output = (*recorded)["output"];
      outcome.error = (*recorded)["error"].get<std::string>();
      outcome.cause = (*recorded)["cause"].get<std::string>();
    } else {
      int64_t sched = env.AddEvent("TaskScheduled", sc.frame->previous_event,
                                   {{"resource", st.resource}, {"parameters", task_input}});
      const TaskHandler* handler = env.resources->Find(resource);
      if (handler == nullptr)
        return Step::Fail(RuntimeFailure(sc, "States.Runtime",
                                         "No task resource is registered for '" + resource + "'"));
      if (env.journal != nullptr) {
        env.journal->Record(key + "/scheduled", true);
        if (callback) {
          Status s = env.journal->RegisterToken(sc.task_token, key);
          if (!s.ok()) return Step::Fail(RuntimeFailure(sc, "States.Runtime", s.message()));
        }
        Status s = env.journal->Sync();
        if (!s.ok()) return Step::Fail(RuntimeFailure(sc, "States.Runtime", s.message()));
      } else if (callback) {
        return Step::Fail(RuntimeFailure(sc, "States.Runtime",
                                         "callback tasks (.waitForTaskToken) need a durable "
                                         "execution: use `vqi workflow start`"));
      }
      int64_t started = env.AddEvent("TaskStarted", sched, {{"resource", st.resource}});
      TaskRequest req;
      req.resource = resource;
      req.input = task_input;
      req.idempotency_key = env.execution_id + key;
      req.task_token = sc.task_token;
      req.timeout_seconds = timeout_s;
      req.cancel = &env.cancel;
      // A resource is an adapter: whatever it throws is its task's failure.
      try {
        outcome = (*handler)(req);
      } catch (const std::exception& e) {
        outcome = TaskOutcome::Failure("States.TaskFailed",
                                       std::string("the task resource threw: ") + e.what());
      }
      if (outcome.ok && callback)
        outcome = AwaitCallback(env, sc.task_token, timeout_s, heartbeat_s);
      // The result is checked before it is recorded: an oversized result is never stored.
      if (outcome.ok && !PayloadWithinLimits(outcome.output, &why, "The task result"))
        outcome = TaskOutcome::Failure(kDataLimitExceeded, why);
      if (outcome.ok) {
        sc.frame->previous_event = env.AddEvent(
            "TaskSucceeded", started, {{"resource", st.resource}, {"output", outcome.output}});
      } else {
        sc.frame->previous_event = env.AddEvent(
            outcome.error == "States.Timeout" || outcome.error == "States.HeartbeatTimeout"
                ? "TaskTimedOut"
                : "TaskFailed",
            started,
            {{"resource", st.resource}, {"error", outcome.error}, {"cause", outcome.cause}});
      }
      if (env.journal != nullptr && outcome.error != "States.Aborted") {
        env.journal->Record(key + "/outcome", {{"ok", outcome.ok},
                                               {"output", outcome.output},
                                               {"error", outcome.error},
                                               {"cause", outcome.cause}});
        (void)env.journal->Sync();
      }
    }
    if (!outcome.ok) {
      Failure f;
      f.error = outcome.error;
      if (!outcome.cause.empty()) f.cause = outcome.cause;
      return Step::Fail(f);
    }
    return CompleteWith(env, sc, std::move(outcome.output));
  });
}

}  // namespace vqi::workflow
