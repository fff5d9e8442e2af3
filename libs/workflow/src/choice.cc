// Choice: rule evaluation (one comparison per operator family) and the state itself.
#include "interp.h"
#include "timestamp.h"

namespace vqi::workflow {
namespace {

bool EndsWith(const std::string& s, const char* t) {
  size_t n = std::char_traits<char>::length(t);
  return s.size() >= n && s.compare(s.size() - n, n, t) == 0;
}

// StringMatches: '*' matches any run; '\*' and '\\' are literal.
bool GlobMatch(const std::string& pat, size_t p, const std::string& s, size_t i) {
  while (p < pat.size()) {
    char c = pat[p];
    if (c == '*') {
      while (p < pat.size() && pat[p] == '*') ++p;
      if (p == pat.size()) return true;
      for (size_t k = i; k <= s.size(); ++k)
        if (GlobMatch(pat, p, s, k)) return true;
      return false;
    }
    if (c == '\\' && p + 1 < pat.size()) c = pat[++p];
    if (i >= s.size() || s[i] != c) return false;
    ++p;
    ++i;
  }
  return i == s.size();
}

int Cmp(double a, double b) { return a < b ? -1 : (a > b ? 1 : 0); }

bool Relation(const std::string& rel, int c) {
  if (rel == "Equals") return c == 0;
  if (rel == "LessThan") return c < 0;
  if (rel == "GreaterThan") return c > 0;
  if (rel == "LessThanEquals") return c <= 0;
  if (rel == "GreaterThanEquals") return c >= 0;
  return false;
}

Result<bool> Compare(const std::string& op_in, const std::optional<Json>& var, const Json& operand) {
  std::string op = op_in;
  if (op == "IsPresent") return var.has_value() == operand.get<bool>();
  if (!var) return false;
  const Json& v = *var;
  if (op == "IsNull") return v.is_null() == operand.get<bool>();
  if (op == "IsNumeric") return v.is_number() == operand.get<bool>();
  if (op == "IsString") return v.is_string() == operand.get<bool>();
  if (op == "IsBoolean") return v.is_boolean() == operand.get<bool>();
  if (op == "IsTimestamp")
    return (v.is_string() && ParseTimestampNs(v.get<std::string>()).has_value()) ==
           operand.get<bool>();
  if (op == "StringMatches") {
    if (!v.is_string() || !operand.is_string()) return false;
    return GlobMatch(operand.get<std::string>(), 0, v.get<std::string>(), 0);
  }
  if (EndsWith(op, "Path")) op = op.substr(0, op.size() - 4);
  if (op.rfind("String", 0) == 0) {
    if (!v.is_string() || !operand.is_string()) return false;
    int c = v.get_ref<const std::string&>().compare(operand.get_ref<const std::string&>());
    return Relation(op.substr(6), c < 0 ? -1 : (c > 0 ? 1 : 0));
  }
  if (op.rfind("Numeric", 0) == 0) {
    if (!v.is_number() || !operand.is_number()) return false;
    if (v.is_number_integer() && operand.is_number_integer()) {
      long long a = v.get<long long>(), b = operand.get<long long>();
      return Relation(op.substr(7), a < b ? -1 : (a > b ? 1 : 0));
    }
    return Relation(op.substr(7), Cmp(v.get<double>(), operand.get<double>()));
  }
  if (op.rfind("Boolean", 0) == 0) {
    if (!v.is_boolean() || !operand.is_boolean()) return false;
    return v.get<bool>() == operand.get<bool>();
  }
  if (op.rfind("Timestamp", 0) == 0) {
    if (!v.is_string() || !operand.is_string()) return false;
    auto a = ParseTimestampNs(v.get<std::string>());
    auto b = ParseTimestampNs(operand.get<std::string>());
    if (!a || !b) return false;
    return Relation(op.substr(9), *a < *b ? -1 : (*a > *b ? 1 : 0));
  }
  return InvalidArgument("unknown operator " + op_in);
}

std::string TypeName(const Json& v) {
  if (v.is_boolean()) return "boolean";
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  return "null";
}

MaybeFailure Evaluate(Env& env, const StateCtx& sc, const ChoiceRule& r, const Json& input,
                      bool* out) {
  switch (r.kind) {
    case ChoiceRule::Kind::kAnd:
    case ChoiceRule::Kind::kOr: {
      bool want = r.kind == ChoiceRule::Kind::kOr;
      for (const ChoiceRule& c : r.children) {
        bool b = false;
        if (auto f = Evaluate(env, sc, c, input, &b)) return f;
        if (b == want) {
          *out = want;
          return std::nullopt;
        }
      }
      *out = !want;
      return std::nullopt;
    }
    case ChoiceRule::Kind::kNot: {
      bool b = false;
      if (auto f = Evaluate(env, sc, r.children[0], input, &b)) return f;
      *out = !b;
      return std::nullopt;
    }
    case ChoiceRule::Kind::kCondition: {
      Json v = r.condition;
      if (auto f = EvalJsonataValue(env, sc, r.condition, "Condition", Json(), &v)) return f;
      if (!v.is_boolean()) {
        std::string expr;
        IsJsonataExpression(r.condition, &expr);
        return RuntimeFailure(sc, "States.QueryEvaluationError",
                              "The JSONata expression '" + expr +
                                  "' specified for the field 'Condition' returned an unexpected "
                                  "result type. Expected 'boolean', but was '" + TypeName(v) +
                                  "' for value: " + JsonCompact(v));
      }
      *out = v.get<bool>();
      return std::nullopt;
    }
    case ChoiceRule::Kind::kCompare: {
      Scope scope{&env, &sc, &input};
      auto var = ResolvePath(scope, r.variable);
      if (!var.ok()) return RuntimeFailure(sc, "States.Runtime", var.status().message());
      Json operand = r.operand;
      if (EndsWith(r.op, "Path")) {
        auto o = ResolvePath(scope, r.operand.get<std::string>());
        if (!o.ok()) return RuntimeFailure(sc, "States.Runtime", o.status().message());
        if (!o->has_value()) {
          *out = false;
          return std::nullopt;
        }
        operand = std::move(**o);
      }
      auto c = Compare(r.op, *var, operand);
      if (!c.ok()) return RuntimeFailure(sc, "States.Runtime", c.status().message());
      *out = *c;
      return std::nullopt;
    }
  }
  *out = false;
  return std::nullopt;
}

}  // namespace

Step ExecuteChoice(Env& env, StateCtx& sc) {
  const State& st = *sc.state;
  Json eff;
  if (auto f = ApplyInputPath(env, sc, &eff)) return Step::Fail(*f);
  const ChoiceRule* matched = nullptr;
  for (const ChoiceRule& rule : st.choices) {
    bool b = false;
    if (auto f = Evaluate(env, sc, rule, eff, &b)) return Step::Fail(*f);
    if (b) {
      matched = &rule;
      break;
    }
  }
  Step step;
  if (matched == nullptr && st.default_next.empty())
    return Step::Fail({"States.NoChoiceMatched", "No Matches!"});
  // A matched rule's Assign/Output replace the state's own.
  State view = st;
  if (matched != nullptr) {
    if (matched->assign.present) view.assign = matched->assign;
    else view.assign = JsonField{};
    if (matched->output.present) view.output = matched->output;
  }
  StateCtx vsc = sc;
  vsc.state = &view;
  if (auto f = FinishState(env, vsc, std::move(eff), &step)) return Step::Fail(*f);
  step.next = matched != nullptr ? matched->next : st.default_next;
  return step;
}

}  // namespace vqi::workflow
