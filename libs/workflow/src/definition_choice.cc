// Choice rules: comparison operators, And/Or/Not, JSONata Condition.
#include <set>

#include "definition_internal.h"
#include "vqi/workflow/jsonpath.h"

namespace vqi::workflow {
namespace {

const std::set<std::string>& Operators() {
  static const std::set<std::string> ops = [] {
    std::set<std::string> s;
    for (const char* base : {"StringEquals", "StringLessThan", "StringGreaterThan",
                             "StringLessThanEquals", "StringGreaterThanEquals", "NumericEquals",
                             "NumericLessThan", "NumericGreaterThan", "NumericLessThanEquals",
                             "NumericGreaterThanEquals", "BooleanEquals", "TimestampEquals",
                             "TimestampLessThan", "TimestampGreaterThan",
                             "TimestampLessThanEquals", "TimestampGreaterThanEquals"}) {
      s.insert(base);
      s.insert(std::string(base) + "Path");
    }
    for (const char* u : {"StringMatches", "IsNull", "IsPresent", "IsNumeric", "IsString",
                          "IsBoolean", "IsTimestamp"})
      s.insert(u);
    return s;
  }();
  return ops;
}

Status CheckOperand(const std::string& op, const Json& v, const std::string& w) {
  auto ends_with = [&op](const char* s) {
    std::string t(s);
    return op.size() >= t.size() && op.compare(op.size() - t.size(), t.size(), t) == 0;
  };
  if (ends_with("Path")) return CheckPath(v, w + op, false, true);
  if (op.rfind("Is", 0) == 0 || op.rfind("Boolean", 0) == 0) {
    if (!v.is_boolean()) return InvalidArgument(w + op + ": must be a boolean");
  } else if (op.rfind("Numeric", 0) == 0) {
    if (!v.is_number()) return InvalidArgument(w + op + ": must be a number");
  } else if (!v.is_string()) {
    return InvalidArgument(w + op + ": must be a string");
  }
  return Status::Ok();
}

Status ParseRule(const Json& r, const std::string& w, bool top, bool jsonata, ChoiceRule* out) {
  if (!r.is_object()) return InvalidArgument(w.substr(0, w.size() - 1) + ": must be an object");
  if (top) {
    VQI_ASSIGN_OR_RETURN(out->next, StringField(r, "Next", w, true));
    out->assign = Field(r, "Assign");
    out->output = Field(r, "Output");
    VQI_RETURN_IF_ERROR(CheckPayload(out->assign, w + "Assign", jsonata));
    VQI_RETURN_IF_ERROR(CheckPayload(out->output, w + "Output", true));
  } else if (r.contains("Next")) {
    return InvalidArgument(w + "Next: only top-level choice rules may have Next");
  }
  if (jsonata) {
    auto c = r.find("Condition");
    if (c == r.end()) return InvalidArgument(w + "Condition: required field is missing");
    for (auto& [k, v] : r.items())
      if (k != "Condition" && k != "Next" && k != "Assign" && k != "Output" && k != "Comment")
        return InvalidArgument(w + k + ": field is not supported with QueryLanguage JSONata");
    std::string expr;
    if (IsJsonataExpression(*c, &expr)) {
      Status s = CheckJsonataExpr(expr);
      if (!s.ok()) return InvalidArgument(w + "Condition: " + s.message());
    } else if (!c->is_boolean()) {
      return InvalidArgument(w + "Condition: must be a boolean or a JSONata expression");
    }
    out->kind = ChoiceRule::Kind::kCondition;
    out->condition = *c;
    return Status::Ok();
  }
  for (const char* comb : {"And", "Or", "Not"}) {
    auto it = r.find(comb);
    if (it == r.end()) continue;
    std::string cw = w + comb;
    if (std::string(comb) == "Not") {
      out->kind = ChoiceRule::Kind::kNot;
      ChoiceRule child;
      VQI_RETURN_IF_ERROR(ParseRule(*it, cw + ".", false, jsonata, &child));
      out->children.push_back(std::move(child));
    } else {
      out->kind = std::string(comb) == "And" ? ChoiceRule::Kind::kAnd : ChoiceRule::Kind::kOr;
      if (!it->is_array() || it->empty())
        return InvalidArgument(cw + ": must be a non-empty array of rules");
      for (size_t i = 0; i < it->size(); ++i) {
        ChoiceRule child;
        VQI_RETURN_IF_ERROR(
            ParseRule((*it)[i], cw + "[" + std::to_string(i) + "].", false, jsonata, &child));
        out->children.push_back(std::move(child));
      }
    }
    return Status::Ok();
  }
  out->kind = ChoiceRule::Kind::kCompare;
  VQI_ASSIGN_OR_RETURN(out->variable, StringField(r, "Variable", w, true));
  VQI_RETURN_IF_ERROR(CheckPath(r["Variable"], w + "Variable", false, true));
  int n = 0;
  for (auto& [k, v] : r.items()) {
    if (k == "Variable" || k == "Next" || k == "Comment" || k == "Assign" || k == "Output")
      continue;
    if (!Operators().count(k)) return InvalidArgument(w + k + ": unknown choice operator");
    VQI_RETURN_IF_ERROR(CheckOperand(k, v, w));
    out->op = k;
    out->operand = v;
    ++n;
  }
  if (n != 1) return InvalidArgument(w + "Variable: a choice rule needs exactly one operator");
  return Status::Ok();
}

}  // namespace

Status ParseChoice(const Json& sj, const std::string& sw, State* st) {
  auto it = sj.find("Choices");
  if (it == sj.end()) return InvalidArgument(sw + "Choices: required field is missing");
  if (!it->is_array() || it->empty())
    return InvalidArgument(sw + "Choices: must be a non-empty array");
  bool jsonata = st->query_language == QueryLanguage::kJsonata;
  for (size_t i = 0; i < it->size(); ++i) {
    ChoiceRule rule;
    VQI_RETURN_IF_ERROR(
        ParseRule((*it)[i], sw + "Choices[" + std::to_string(i) + "].", true, jsonata, &rule));
    st->choices.push_back(std::move(rule));
  }
  VQI_ASSIGN_OR_RETURN(st->default_next, StringField(sj, "Default", sw, false));
  return Status::Ok();
}

}  // namespace vqi::workflow
