// Retry (in order; the first retrier whose ErrorEquals matches decides) then Catch.
#include <cmath>
#include <random>

#include "interp.h"
#include "vqi/workflow/limits.h"

namespace vqi::workflow {
namespace {

bool Matches(const std::vector<std::string>& names, const std::optional<std::string>& error) {
  const std::string e = error.value_or("");
  for (const std::string& n : names) {
    if (n == e && error) return true;
    if (n == "States.ALL" && e != "States.Runtime" && e != "States.DataLimitExceeded" &&
        e != "States.Aborted")
      return true;
    if (n == "States.TaskFailed" && error && e != "States.Timeout" && e != "States.Runtime" &&
        e != "States.Aborted" && e.rfind("States.", 0) != 0)
      return true;
  }
  return false;
}

}  // namespace

Step WithRetryAndCatch(Env& env, StateCtx& sc, const std::function<Step(int attempt)>& body) {
  const State& st = *sc.state;
  std::vector<int> counts(st.retry.size(), 0);
  int attempt = 0;
  while (true) {
    Step s = body(attempt);
    if (!s.failure) return s;
    if (env.Cancelled() || s.failure->error == std::optional<std::string>("States.Aborted"))
      return s;
    size_t r = 0;
    for (; r < st.retry.size(); ++r)
      if (Matches(st.retry[r].error_equals, s.failure->error)) break;
    if (r < st.retry.size() && counts[r] < st.retry[r].max_attempts) {
      const Retrier& rt = st.retry[r];
      double delay = rt.interval_seconds * std::pow(rt.backoff_rate, counts[r]);
      if (rt.max_delay_seconds) delay = std::min(delay, *rt.max_delay_seconds);
      // Backoff may grow past any clock (or to inf): cap it at the longest Wait.
      delay = std::min(delay, static_cast<double>(kMaxWaitSeconds));
      if (rt.jitter_full) {
        thread_local std::mt19937_64 rng{std::random_device{}()};
        delay = std::uniform_real_distribution<double>(0, delay)(rng);
      }
      ++counts[r];
      ++attempt;
      int64_t deadline = env.clock->NowMs() + static_cast<int64_t>(delay * 1000);
      if (env.journal != nullptr) {
        std::string key = sc.key + "@retry" + std::to_string(attempt);
        if (auto rec = env.journal->Lookup(key)) {
          deadline = rec->get<int64_t>();
        } else {
          env.journal->Record(key, deadline);
          (void)env.journal->Sync();
        }
      }
      if (!env.clock->SleepUntil(deadline, &env.cancel))
        return Step::Fail({"States.Aborted", "The execution was stopped"});
      sc.retry_count = attempt;
      sc.context.reset();
      continue;
    }
    for (const Catcher& c : st.catch_) {
      if (!Matches(c.error_equals, s.failure->error)) continue;
      Json error_output = Json::object();
      if (s.failure->error) error_output["Error"] = *s.failure->error;
      if (s.failure->cause) error_output["Cause"] = *s.failure->cause;
      Step out;
      out.next = c.next;
      if (st.query_language == QueryLanguage::kJsonata) {
        Json extra = {{"errorOutput", error_output}};
        if (auto f = EvalAssign(env, sc, c.assign, error_output, extra, &out.pending_assign))
          return Step::Fail(*f);
        if (c.output.present) {
          if (auto f = EvalJsonataValue(env, sc, c.output.value, "Output", extra, &out.output))
            return Step::Fail(*f);
        } else {
          out.output = error_output;
        }
        return out;
      }
      if (auto f = EvalAssign(env, sc, c.assign, error_output, Json(), &out.pending_assign))
        return Step::Fail(*f);
      if (!c.result_path.present || c.result_path.path == "$") {
        out.output = c.result_path.is_null ? sc.raw_input : error_output;
      } else if (c.result_path.is_null) {
        out.output = sc.raw_input;
      } else {
        out.output = sc.raw_input;
        auto p = JsonPath::Parse(c.result_path.path);
        if (!p.ok() || !p->Set(out.output, error_output).ok())
          return Step::Fail(RuntimeFailure(sc, "States.ResultPathMatchFailure",
                                           "Unable to apply ReferencePath " + c.result_path.path +
                                               " to input " + JsonCompact(sc.raw_input)));
      }
      return out;
    }
    return s;
  }
}

Step RunAttempts(Env& env, StateCtx& sc, const std::function<Step(int attempt)>& body) {
  Step step = WithRetryAndCatch(env, sc, body);
  if (!step.failure && step.next.empty()) {
    step.next = sc.state->next;
    step.end = sc.state->end;
  }
  return step;
}

Step CompleteWith(Env& env, const StateCtx& sc, Json result) {
  Step s;
  if (auto f = FinishState(env, sc, std::move(result), &s)) return Step::Fail(*f);
  return s;
}

}  // namespace vqi::workflow
