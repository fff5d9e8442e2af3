// The input/output pipeline in AWS's order:
//   JSONPath: InputPath -> Parameters -> (work) -> ResultSelector -> Assign -> ResultPath
//             -> OutputPath
//   JSONata:  Arguments -> (work) -> Output and Assign (both see $states.result)
// Assigned variables take effect after the state's output is computed.
#include "interp.h"

namespace vqi::workflow {
namespace {

std::string NoResults(const std::string& path) {
  auto p = JsonPath::Parse(path);
  std::string norm = p.ok() ? p->Normalized() : path;
  return "Invalid path '" + path + "' : No results for path: " + norm;
}

}  // namespace

MaybeFailure ApplyInputPath(Env& env, const StateCtx& sc, Json* effective) {
  const State& st = *sc.state;
  if (st.query_language == QueryLanguage::kJsonata || !st.input_path.present) {
    *effective = sc.raw_input;
    return std::nullopt;
  }
  if (st.input_path.is_null) {
    *effective = Json::object();
    return std::nullopt;
  }
  if (st.input_path.path == "$") {
    *effective = sc.raw_input;
    return std::nullopt;
  }
  Scope scope{&env, &sc, &sc.raw_input};
  auto r = ResolvePath(scope, st.input_path.path);
  if (!r.ok()) return RuntimeFailure(sc, "States.Runtime", r.status().message());
  if (!r->has_value()) return RuntimeFailure(sc, "States.Runtime", NoResults(st.input_path.path));
  *effective = std::move(**r);
  return std::nullopt;
}

MaybeFailure ApplyParameters(Env& env, const StateCtx& sc, const JsonField& field,
                             const std::string& name, const Json& effective, Json* out) {
  if (!field.present) {
    *out = effective;
    return std::nullopt;
  }
  if (sc.state->query_language == QueryLanguage::kJsonata)
    return EvalJsonataValue(env, sc, field.value, name, Json(), out);
  Scope scope{&env, &sc, &effective};
  return EvalTemplate(scope, field.value, out);
}

MaybeFailure EvalAssign(Env& env, const StateCtx& sc, const JsonField& assign, const Json& result,
                        const Json& states_extra, Json* pending) {
  if (!assign.present) return std::nullopt;
  Json vars;
  if (sc.state->query_language == QueryLanguage::kJsonata) {
    if (auto f = EvalJsonataValue(env, sc, assign.value, "Assign", states_extra, &vars)) return f;
  } else {
    Scope scope{&env, &sc, &result};
    if (auto f = EvalTemplate(scope, assign.value, &vars)) return f;
  }
  if (!pending->is_object()) *pending = Json::object();
  for (auto& [k, v] : vars.items()) (*pending)[k] = std::move(v);
  return std::nullopt;
}

MaybeFailure FinishState(Env& env, const StateCtx& sc, Json result, Step* step) {
  const State& st = *sc.state;
  bool has_result_path = st.type == StateType::kTask || st.type == StateType::kPass ||
                         st.type == StateType::kParallel || st.type == StateType::kMap;
  if (st.query_language == QueryLanguage::kJsonata) {
    Json extra = {{"result", result}};
    if (auto f = EvalAssign(env, sc, st.assign, result, extra, &step->pending_assign)) return f;
    if (st.output.present) {
      return EvalJsonataValue(env, sc, st.output.value, "Output", extra, &step->output);
    }
    step->output = std::move(result);
    return std::nullopt;
  }
  if (st.result_selector.present) {
    Scope scope{&env, &sc, &result};
    Json selected;
    if (auto f = EvalTemplate(scope, st.result_selector.value, &selected)) return f;
    result = std::move(selected);
  }
  if (auto f = EvalAssign(env, sc, st.assign, result, Json(), &step->pending_assign)) return f;
  Json output;
  if (!has_result_path || !st.result_path.present || st.result_path.path == "$") {
    if (has_result_path && st.result_path.present && st.result_path.is_null) {
      output = sc.raw_input;
    } else {
      output = std::move(result);
    }
  } else if (st.result_path.is_null) {
    output = sc.raw_input;
  } else {
    output = sc.raw_input;
    auto p = JsonPath::Parse(st.result_path.path);
    if (!p.ok() || !p->Set(output, std::move(result)).ok())
      return RuntimeFailure(sc, "States.ResultPathMatchFailure",
                            "Unable to apply ReferencePath " + st.result_path.path +
                                " to input " + JsonCompact(sc.raw_input));
  }
  if (st.output_path.present) {
    if (st.output_path.is_null) {
      output = Json::object();
    } else if (st.output_path.path != "$") {
      Scope scope{&env, &sc, &output};
      auto r = ResolvePath(scope, st.output_path.path);
      if (!r.ok()) return RuntimeFailure(sc, "States.Runtime", r.status().message());
      if (!r->has_value())
        return RuntimeFailure(sc, "States.Runtime", NoResults(st.output_path.path));
      output = std::move(**r);
    }
  }
  step->output = std::move(output);
  return std::nullopt;
}

}  // namespace vqi::workflow
