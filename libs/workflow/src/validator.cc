// The static analyser: rules that span states (LocalStack's static_analyser/), and the
// public LoadDefinition entry points.
#include "definition_internal.h"
#include "intrinsics.h"
#include "jsonata_bridge.h"
#include "vqi/workflow/jsonpath.h"

namespace vqi::workflow {
namespace {

Status CheckTarget(const StateMachine& m, const std::string& target, const std::string& field) {
  if (m.states.count(target)) return Status::Ok();
  return InvalidArgument(field + ": state '" + target +
                         "' does not exist in this scope (a Next cannot leave its branch or "
                         "iteration)");
}

Status CheckPayloadValue(const Json& v, const std::string& field, bool jsonata, bool path_key) {
  if (v.is_object()) {
    for (auto& [k, child] : v.items()) {
      bool is_path = !jsonata && k.size() > 2 && k.compare(k.size() - 2, 2, ".$") == 0;
      VQI_RETURN_IF_ERROR(CheckPayloadValue(child, field + "." + k, jsonata, is_path));
    }
  } else if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i)
      VQI_RETURN_IF_ERROR(
          CheckPayloadValue(v[i], field + "[" + std::to_string(i) + "]", jsonata, false));
  } else if (path_key) {
    if (!v.is_string()) return InvalidArgument(field + ": a '.$' field must hold a string");
    const std::string& s = v.get_ref<const std::string&>();
    if (s.rfind("States.", 0) == 0) return CheckIntrinsicSyntax(s).WithContext(field);
    return CheckPath(v, field, false, true);
  } else if (jsonata) {
    std::string expr;
    if (IsJsonataExpression(v, &expr)) {
      Status s = CheckJsonataExpr(expr);
      if (!s.ok()) return InvalidArgument(field + ": " + s.message());
    }
  }
  return Status::Ok();
}

}  // namespace

Status CheckPayload(const JsonField& f, const std::string& field, bool jsonata) {
  if (!f.present) return Status::Ok();
  return CheckPayloadValue(f.value, field, jsonata, false);
}

Status CheckJsonataExpr(const std::string& expr) { return CheckJsonata(expr); }

Status CheckIntrinsicSyntax(const std::string& text) {
  auto call = ParseIntrinsic(text);
  if (!call.ok()) return call.status();
  return Status::Ok();
}

Status ValidateMachine(const StateMachine& m) {
  const std::string& w = m.where;
  if (!m.states.count(m.start_at))
    return InvalidArgument(w + "StartAt: state '" + m.start_at + "' does not exist");
  for (const auto& [name, st] : m.states) {
    std::string sw = w + "States." + name + ".";
    if (!st.next.empty()) VQI_RETURN_IF_ERROR(CheckTarget(m, st.next, sw + "Next"));
    for (size_t i = 0; i < st.catch_.size(); ++i)
      VQI_RETURN_IF_ERROR(
          CheckTarget(m, st.catch_[i].next, sw + "Catch[" + std::to_string(i) + "].Next"));
    for (size_t i = 0; i < st.choices.size(); ++i)
      VQI_RETURN_IF_ERROR(
          CheckTarget(m, st.choices[i].next, sw + "Choices[" + std::to_string(i) + "].Next"));
    if (!st.default_next.empty())
      VQI_RETURN_IF_ERROR(CheckTarget(m, st.default_next, sw + "Default"));
    for (const auto& b : st.branches) VQI_RETURN_IF_ERROR(ValidateMachine(*b));
    if (st.processor) VQI_RETURN_IF_ERROR(ValidateMachine(*st.processor));
  }
  return Status::Ok();
}

Result<std::shared_ptr<const StateMachine>> LoadDefinition(const Json& definition) {
  VQI_ASSIGN_OR_RETURN(auto m, ParseMachine(definition, "", QueryLanguage::kJsonPath));
  VQI_RETURN_IF_ERROR(ValidateMachine(*m));
  return std::shared_ptr<const StateMachine>(std::move(m));
}

Result<std::shared_ptr<const StateMachine>> LoadDefinitionText(std::string_view text,
                                                               const std::string& where) {
  if (text.size() > kMaxDefinitionBytes)
    return ResourceExhausted(where + ": the definition has " + std::to_string(text.size()) +
                             " bytes, more than the maximum of " +
                             std::to_string(kMaxDefinitionBytes) + " (1 MB, docs/limits.md)");
  VQI_ASSIGN_OR_RETURN(Json j, ParseJson(text, where));
  auto m = LoadDefinition(j);
  if (!m.ok()) return m.status().WithContext(where);
  return m;
}

}  // namespace vqi::workflow
