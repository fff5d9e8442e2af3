// Pass, Succeed and Fail states.
#include "interp.h"

namespace vqi::workflow {
namespace {

void SetFlow(const State& st, Step* step) {
  step->end = st.end || st.type == StateType::kSucceed;
  step->next = st.next;
}

// ErrorPath/CausePath (a path or an intrinsic) or Error/Cause (literal or JSONata).
MaybeFailure FailField(Env& env, const StateCtx& sc, const JsonField& literal,
                       const std::string& path, const char* path_name, const char* name,
                       std::optional<std::string>* out) {
  if (literal.present) {
    Json v = literal.value;
    if (sc.state->query_language == QueryLanguage::kJsonata) {
      if (auto f = EvalJsonataValue(env, sc, literal.value, name, Json(), &v)) return f;
    }
    *out = v.is_string() ? v.get<std::string>() : JsonCompact(v);
    return std::nullopt;
  }
  if (path.empty()) return std::nullopt;
  Scope scope{&env, &sc, &sc.raw_input};
  Json v;
  if (LooksLikeIntrinsic(path)) {
    auto r = EvalIntrinsic(scope, path);
    if (!r.ok()) return RuntimeFailure(sc, "States.IntrinsicFailure", r.status().message());
    v = std::move(*r);
  } else {
    auto r = ResolvePath(scope, path);
    if (!r.ok()) return RuntimeFailure(sc, "States.Runtime", r.status().message());
    if (!r->has_value())
      return RuntimeFailure(sc, "States.Runtime",
                            "The JSONPath '" + path + "' specified for the field '" + path_name +
                                "' could not be found in the input '" +
                                JsonCompact(sc.raw_input) + "'");
    v = std::move(**r);
  }
  *out = v.is_string() ? v.get<std::string>() : JsonCompact(v);
  return std::nullopt;
}

}  // namespace

Step ExecutePass(Env& env, StateCtx& sc) {
  const State& st = *sc.state;
  Json eff;
  if (auto f = ApplyInputPath(env, sc, &eff)) return Step::Fail(*f);
  Json result;
  if (st.query_language == QueryLanguage::kJsonata) {
    result = st.result.present ? st.result.value : eff;
  } else {
    if (auto f = ApplyParameters(env, sc, st.parameters, "Parameters", eff, &result))
      return Step::Fail(*f);
    if (st.result.present) result = st.result.value;
  }
  Step step;
  if (auto f = FinishState(env, sc, std::move(result), &step)) return Step::Fail(*f);
  SetFlow(st, &step);
  return step;
}

Step ExecuteSucceed(Env& env, StateCtx& sc) {
  Json eff;
  if (auto f = ApplyInputPath(env, sc, &eff)) return Step::Fail(*f);
  Step step;
  if (auto f = FinishState(env, sc, std::move(eff), &step)) return Step::Fail(*f);
  SetFlow(*sc.state, &step);
  return step;
}

Step ExecuteFail(Env& env, StateCtx& sc) {
  const State& st = *sc.state;
  Failure out;
  if (auto f = FailField(env, sc, st.error, st.error_path, "ErrorPath", "Error", &out.error))
    return Step::Fail(*f);
  if (auto f = FailField(env, sc, st.cause, st.cause_path, "CausePath", "Cause", &out.cause))
    return Step::Fail(*f);
  return Step::Fail(out);
}

}  // namespace vqi::workflow
