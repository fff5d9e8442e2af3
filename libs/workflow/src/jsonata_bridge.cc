// JSONata mode: "{% expr %}" strings evaluated through libs/jsonata with $states bound.
#include "jsonata_bridge.h"

#include "interp.h"
#ifdef VQI_HAVE_JSONATA
#include "vqi/jsonata/jsonata.h"
#endif

namespace vqi::workflow {

Result<std::optional<Json>> JsonataEvaluate(std::string_view expr, const Json& input,
                                            const std::map<std::string, Json>& bindings) {
#ifdef VQI_HAVE_JSONATA
  return vqi::jsonata::Evaluate(expr, input, bindings);
#else
  (void)expr;
  (void)input;
  (void)bindings;
  return Unimplemented("JSONata support is not built into this vqi (libs/jsonata missing)");
#endif
}

Status CheckJsonata(const std::string& expr) {
#ifdef VQI_HAVE_JSONATA
  return vqi::jsonata::Check(expr);
#else
  (void)expr;
  return Status::Ok();
#endif
}

namespace {

MaybeFailure EvalRec(Env& env, const StateCtx& sc, const Json& value, const std::string& field,
                     const std::map<std::string, Json>& bindings, Json* out) {
  std::string expr;
  if (IsJsonataExpression(value, &expr)) {
    auto r = JsonataEvaluate(expr, sc.raw_input, bindings);
    if (!r.ok())
      return RuntimeFailure(sc, "States.QueryEvaluationError",
                            "The JSONata expression '" + expr + "' specified for the field '" +
                                field + "' threw an error during evaluation. " +
                                r.status().message());
    if (!r->has_value())
      return RuntimeFailure(sc, "States.QueryEvaluationError",
                            "The JSONata expression '" + expr + "' specified for the field '" +
                                field + "' returned nothing (undefined).");
    *out = std::move(**r);
    return std::nullopt;
  }
  if (value.is_object()) {
    *out = Json::object();
    for (auto& [k, v] : value.items()) {
      Json r;
      if (auto f = EvalRec(env, sc, v, field + "/" + k, bindings, &r)) return f;
      (*out)[k] = std::move(r);
    }
    return std::nullopt;
  }
  if (value.is_array()) {
    *out = Json::array();
    for (size_t i = 0; i < value.size(); ++i) {
      Json r;
      if (auto f = EvalRec(env, sc, value[i], field + "[" + std::to_string(i) + "]", bindings, &r))
        return f;
      out->push_back(std::move(r));
    }
    return std::nullopt;
  }
  *out = value;
  return std::nullopt;
}

bool HasExpression(const Json& v) {
  if (v.is_string()) return IsJsonataExpression(v);
  if (v.is_structured())
    for (const Json& c : v)
      if (HasExpression(c)) return true;
  return false;
}

}  // namespace

MaybeFailure EvalJsonataValue(Env& env, const StateCtx& sc, const Json& value,
                              const std::string& field, const Json& states_extra, Json* out) {
  if (!HasExpression(value)) {
    *out = value;
    return std::nullopt;
  }
  std::map<std::string, Json> bindings;
  for (auto& [k, v] : sc.frame->variables.items()) bindings[k] = v;
  Json context = ContextObject(env, sc);
  if (context["State"].is_object()) context["State"].erase("RetryCount");
  Json states = {{"input", sc.raw_input}, {"context", std::move(context)}};
  if (states_extra.is_object())
    for (auto& [k, v] : states_extra.items()) states[k] = v;
  bindings["states"] = std::move(states);
  return EvalRec(env, sc, value, field, bindings, out);
}

}  // namespace vqi::workflow
