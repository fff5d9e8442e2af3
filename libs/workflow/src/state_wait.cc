// Wait: Seconds, SecondsPath, Timestamp, TimestampPath (and their JSONata forms). The
// deadline is recorded in the journal before waiting, so a resumed Wait keeps it.
#include <cmath>
#include <ctime>

#include "interp.h"
#include "timestamp.h"
#include "vqi/workflow/limits.h"

namespace vqi::workflow {
namespace {

std::string ValueText(const Json& v) {
  return v.is_string() ? v.get<std::string>() : JsonCompact(v);
}

}  // namespace

Step ExecuteWait(Env& env, StateCtx& sc) {
  const State& st = *sc.state;
  Json eff;
  if (auto f = ApplyInputPath(env, sc, &eff)) return Step::Fail(*f);
  bool jsonata = st.query_language == QueryLanguage::kJsonata;
  const char* qerr = "States.QueryEvaluationError";
  int64_t deadline = 0;
  int64_t now = sc.entered_ms;
  if (st.seconds.present) {
    Json v = st.seconds.value;
    if (jsonata) {
      if (auto f = EvalJsonataValue(env, sc, st.seconds.value, "Seconds", Json(), &v))
        return Step::Fail(*f);
      if (!v.is_number() || std::floor(v.get<double>()) != v.get<double>() || v.get<double>() < 0)
        return Step::Fail(RuntimeFailure(
            sc, qerr,
            "The Seconds field must be a non-negative integer, but was: " + ValueText(v)));
      if (v.get<double>() > kMaxWaitSeconds)
        return Step::Fail(RuntimeFailure(sc, qerr,
                                         "The Seconds field must be at most " +
                                             std::to_string(kMaxWaitSeconds) +
                                             " (docs/limits.md), but was: " + ValueText(v)));
    }
    deadline = now + static_cast<int64_t>(v.get<double>() * 1000);
  } else if (!st.seconds_path.empty()) {
    Scope scope{&env, &sc, &eff};
    auto r = ResolvePath(scope, st.seconds_path);
    if (!r.ok() || !r->has_value())
      return Step::Fail(RuntimeFailure(
          sc, "States.Runtime",
          "The SecondsPath parameter does not reference an input value: " + st.seconds_path));
    const Json& v = **r;
    if (!v.is_number() || std::floor(v.get<double>()) != v.get<double>())
      return Step::Fail(RuntimeFailure(sc, "States.Runtime",
                                       "The SecondsPath parameter cannot be parsed as a long "
                                       "value: " +
                                           st.seconds_path + " == " + ValueText(v)));
    if (v.get<double>() < 0)
      return Step::Fail(RuntimeFailure(sc, "States.Runtime",
                                       "The SecondsPath parameter references a negative value: " +
                                           st.seconds_path + " == " + ValueText(v)));
    if (v.get<double>() > kMaxWaitSeconds)
      return Step::Fail(RuntimeFailure(
          sc, "States.Runtime",
          "The SecondsPath parameter references a value above the maximum of " +
              std::to_string(kMaxWaitSeconds) + " seconds (docs/limits.md): " + st.seconds_path +
              " == " + ValueText(v)));
    deadline = now + static_cast<int64_t>(v.get<double>() * 1000);
  } else if (st.timestamp.present) {
    Json v = st.timestamp.value;
    if (jsonata) {
      if (auto f = EvalJsonataValue(env, sc, st.timestamp.value, "Timestamp", Json(), &v))
        return Step::Fail(*f);
    }
    std::optional<int64_t> t =
        v.is_string() ? ParseTimestampMs(v.get<std::string>()) : std::nullopt;
    if (!t)
      return Step::Fail(RuntimeFailure(sc, jsonata ? qerr : "States.Runtime",
                                       "The Timestamp field cannot be parsed as an ISO-8601 "
                                       "extended offset date-time format string: " +
                                           ValueText(v)));
    deadline = *t;
  } else {
    Scope scope{&env, &sc, &eff};
    auto r = ResolvePath(scope, st.timestamp_path);
    if (!r.ok() || !r->has_value())
      return Step::Fail(RuntimeFailure(
          sc, "States.Runtime",
          "The TimestampPath parameter does not reference an input value: " + st.timestamp_path));
    const Json& v = **r;
    std::optional<int64_t> t =
        v.is_string() ? ParseTimestampMs(v.get<std::string>()) : std::nullopt;
    if (!t)
      return Step::Fail(RuntimeFailure(
          sc, "States.Runtime",
          "The TimestampPath parameter does not reference a valid ISO-8601 extended offset "
          "date-time format string: " +
              st.timestamp_path + " == " + ValueText(v)));
    deadline = *t;
  }
  if (env.journal != nullptr) {
    std::string key = sc.key + "@deadline";
    if (auto rec = env.journal->Lookup(key)) {
      deadline = rec->get<int64_t>();
    } else {
      env.journal->Record(key, deadline);
      (void)env.journal->Sync();
    }
  }
  if (!env.clock->SleepUntil(deadline, &env.cancel) || env.Cancelled())
    return Step::Fail({"States.Aborted", "The execution was stopped"});
  Step step;
  if (auto f = FinishState(env, sc, std::move(eff), &step)) return Step::Fail(*f);
  step.end = st.end;
  step.next = st.next;
  return step;
}

}  // namespace vqi::workflow
