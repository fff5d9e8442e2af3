// Core evaluation: dispatch, paths, steps, predicates, variables and frames.
#include "evaluator.h"

#include <cmath>

#include "lexer.h"

namespace vqi::jsonata {

void Env::Bind(const std::string& name, Value v) {
  for (auto& [k, val] : vars) {
    if (k == name) {
      val = std::move(v);
      return;
    }
  }
  vars.emplace_back(name, std::move(v));
}

bool Env::Lookup(std::string_view name, Value* out) const {
  for (const Env* e = this; e; e = e->parent) {
    for (const auto& [k, v] : e->vars) {
      if (k == name) {
        *out = v;
        return true;
      }
    }
    if (e->bindings) {
      auto it = e->bindings->find(std::string(name));
      if (it != e->bindings->end()) {
        *out = Value::Ref(it->second);
        return true;
      }
    }
  }
  if (const Value* b = FindBuiltin(name)) {
    *out = *b;
    return true;
  }
  return false;
}

size_t Function::Arity() const {
  switch (kind) {
    case Kind::kLambda:
      return lambda->params.size();
    case Kind::kBuiltin:
      return builtin->signature.arity();
    case Kind::kRegex:
      return 1;
    case Kind::kPartial: {
      size_t n = 0;
      for (bool p : placeholder) n += p ? 1 : 0;
      return n;
    }
    case Kind::kChain:
      return 1;
  }
  return 0;
}

Value Lookup(const Value& input, std::string_view key) {
  if (input.IsArray()) {
    auto seq = NewSequence();
    for (size_t i = 0; i < input.size(); ++i) {
      Value res = Lookup(input.at(i), key);
      if (res.IsUndefined()) continue;
      if (res.IsArray()) {
        for (size_t j = 0; j < res.size(); ++j) seq->items.push_back(res.at(j));
      } else {
        seq->items.push_back(std::move(res));
      }
    }
    return Value::FromArray(std::move(seq));
  }
  if (input.IsObject()) return input.Get(key);
  return Value();
}

Value Append(const Value& a, const Value& b) {
  if (a.IsUndefined()) return b;
  if (b.IsUndefined()) return a;
  auto out = std::make_shared<Array>();
  if (a.IsArray()) {
    for (size_t i = 0; i < a.size(); ++i) out->items.push_back(a.at(i));
  } else {
    out->items.push_back(a);
  }
  if (b.IsArray()) {
    for (size_t i = 0; i < b.size(); ++i) out->items.push_back(b.at(i));
  } else {
    out->items.push_back(b);
  }
  return Value::FromArray(std::move(out));
}

std::vector<Value> Items(const Value& v) {
  std::vector<Value> out;
  if (v.IsArray()) {
    out.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) out.push_back(v.at(i));
  } else if (v.IsDefined()) {
    out.push_back(v);
  }
  return out;
}

std::string ValueText(const Value& v) {
  if (v.IsUndefined()) return "undefined";
  return Stringify(v);
}

Evaluator::Evaluator(std::shared_ptr<const Program> program,
                     const std::map<std::string, Json>& bindings)
    : program_(std::move(program)) {
  root_ = NewEnv(nullptr);
  root_->bindings = &bindings;
  now_millis_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
}

Value Evaluator::Keep(Json j) {
  kept_.push_back(std::move(j));
  return Value::Ref(kept_.back());
}

Env* Evaluator::NewEnv(Env* parent) {
  envs_.push_back(std::make_unique<Env>());
  envs_.back()->parent = parent;
  return envs_.back().get();
}

Result<Value> Evaluator::Run(const Json& json) {
  Value input = Value::Ref(json);
  if (input.IsArray()) {
    auto wrapper = NewSequence();
    wrapper->outer_wrapper = true;
    wrapper->items.push_back(input);
    input = Value::FromArray(std::move(wrapper));
  }
  root_->Bind("$", input);
  return Eval(*program_->root, input, root_);
}

Result<Value> Evaluator::EvalText(const std::string& text, const Value& input) {
  auto parsed = Parse(text);
  if (!parsed.ok()) {
    return JsonataError("D3120",
                        "Syntax error in expression passed to function eval: " + Quote(text));
  }
  eval_programs_.push_back(*parsed);
  Value in = input;
  if (in.IsArray() && !in.IsSequence()) {
    auto wrapper = NewSequence();
    wrapper->outer_wrapper = true;
    wrapper->items.push_back(in);
    in = Value::FromArray(std::move(wrapper));
  }
  Env* env = NewEnv(root_);
  auto r = Eval(*eval_programs_.back()->root, in, env);
  if (!r.ok()) {
    return JsonataError("D3121",
                        "Dynamic error evaluating the expression passed to function "
                        "eval: " +
                            Quote(r.status().message()));
  }
  return r;
}

Result<Value> Evaluator::Eval(const Node& n, const Value& input, Env* env) {
  if (depth_ >= kMaxEvalDepth) {
    return JsonataError("U1001",
                        "Stack overflow error: Check for non-terminating recursive "
                        "function.  Consider rewriting as tail-recursive.");
  }
  if (++steps_ > kMaxEvalSteps) {
    return JsonataError("U1002", "Evaluation exceeded " + std::to_string(kMaxEvalSteps) +
                                     " steps (limit: docs/limits.md)");
  }
  ++depth_;
  Result<Value> r = EvalNode(n, input, env);
  if (r.ok()) {
    Value result = std::move(r).value();
    for (const auto& pred : n.predicates) {
      auto f = EvalFilter(*pred, result, env);
      if (!f.ok()) {
        --depth_;
        return f;
      }
      result = std::move(f).value();
    }
    if (n.type != NodeType::kPath && n.group) {
      auto g = EvalGroup(*n.group, result, env);
      if (!g.ok()) {
        --depth_;
        return g;
      }
      result = std::move(g).value();
    }
    --depth_;
    if (NestingDepth(result) > kMaxValueDepth) {
      return JsonataError("D1011", "The expression builds a value nested deeper than " +
                                       std::to_string(kMaxValueDepth) +
                                       " levels (limit: docs/limits.md)");
    }
    if (Array* a = result.owned_array(); a && a->items.size() > kMaxArrayItems) {
      return JsonataError("D1012", "The expression builds an array of more than " +
                                       std::to_string(kMaxArrayItems) +
                                       " items (limit: docs/limits.md)");
    }
    if (result.IsString() && result.str().size() > kMaxStringBytes) {
      return JsonataError("D1012", "The expression builds a string of more than " +
                                       std::to_string(kMaxStringBytes) +
                                       " bytes (limit: docs/limits.md)");
    }
    VQI_RETURN_IF_ERROR(ChargeResult(n, result));  // after D1012: one oversized value says so
    if (Array* a = result.owned_array(); a && a->sequence) {
      if (n.keep_array) a->keep_singleton = true;
      if (a->items.empty()) return Value();
      if (a->items.size() == 1 && !a->keep_singleton) return a->items[0];
    }
    return result;
  }
  --depth_;
  return r;
}

namespace {

void Flatten(const Value& v, std::vector<Value>* out) {
  if (v.IsArray()) {
    for (size_t i = 0; i < v.size(); ++i) Flatten(v.at(i), out);
  } else {
    out->push_back(v);
  }
}

void Descendants(const Value& v, std::vector<Value>* out) {
  if (!v.IsArray()) out->push_back(v);
  if (v.IsArray()) {
    for (size_t i = 0; i < v.size(); ++i) Descendants(v.at(i), out);
  } else if (v.IsObject()) {
    v.ForEachField([&](const std::string&, const Value& f) { Descendants(f, out); });
  }
}

Value Wildcard(const Value& input) {
  auto seq = NewSequence();
  Value v = input;
  if (v.IsOuterWrapper() && v.size() > 0) v = v.at(0);
  auto add = [&](const Value& f) {
    if (f.IsArray()) {
      Flatten(f, &seq->items);
    } else {
      seq->items.push_back(f);
    }
  };
  if (v.IsObject()) {
    v.ForEachField([&](const std::string&, const Value& f) { add(f); });
  } else if (v.IsArray()) {
    for (size_t i = 0; i < v.size(); ++i) add(v.at(i));
  }
  return Value::FromArray(std::move(seq));
}

}  // namespace

Result<Value> Evaluator::EvalNode(const Node& n, const Value& input, Env* env) {
  switch (n.type) {
    case NodeType::kPath:
      return EvalPath(n, input, env);
    case NodeType::kName:
      return Lookup(input, n.value);
    case NodeType::kString:
      return Value::Ref(n.literal);
    case NodeType::kNumber:
      return Value::Number(n.number);
    case NodeType::kTrue:
      return Value::Bool(true);
    case NodeType::kFalse:
      return Value::Bool(false);
    case NodeType::kNull:
      return Value::Null();
    case NodeType::kRegex: {
      auto f = std::make_shared<Function>();
      f->kind = Function::Kind::kRegex;
      f->regex = n.regex;
      return Value::FromFunction(std::move(f));
    }
    case NodeType::kVariable: {
      if (n.value.empty()) return input.IsOuterWrapper() ? input.at(0) : input;
      Value v;
      env->Lookup(n.value, &v);
      return v;
    }
    case NodeType::kWildcard:
      return Wildcard(input);
    case NodeType::kDescendant: {
      if (input.IsUndefined()) return Value();
      std::vector<Value> out;
      Descendants(input, &out);
      if (out.size() == 1) return out[0];
      return MakeSequence(std::move(out));
    }
    case NodeType::kParent:
      return JsonataError("S0217",
                          "The object representing the 'parent' cannot be derived from "
                          "this expression");
    case NodeType::kBinary:
      return EvalBinary(n, input, env);
    case NodeType::kNegate: {
      VQI_ASSIGN_OR_RETURN(Value v, Eval(*n.lhs, input, env));
      if (v.IsUndefined()) return Value();
      if (!v.IsNumber()) {
        return JsonataError("D1002", "Cannot negate a non-numeric value: " + ValueText(v));
      }
      return Value::Number(-v.number());
    }
    case NodeType::kArray:
      return EvalArray(n, input, env);
    case NodeType::kObject:
      return EvalGroup(n, input, env);
    case NodeType::kBlock: {
      Env* frame = NewEnv(env);
      Value result;
      for (const auto& e : n.items) {
        VQI_ASSIGN_OR_RETURN(result, Eval(*e, input, frame));
      }
      return result;
    }
    case NodeType::kCondition: {
      VQI_ASSIGN_OR_RETURN(Value cond, Eval(*n.lhs, input, env));
      if (ToBoolean(cond)) return Eval(*n.rhs, input, env);
      if (n.els) return Eval(*n.els, input, env);
      return Value();
    }
    case NodeType::kCoalesce: {
      VQI_ASSIGN_OR_RETURN(Value v, Eval(*n.lhs, input, env));
      if (v.IsDefined()) return v;
      return Eval(*n.rhs, input, env);
    }
    case NodeType::kElvis: {
      VQI_ASSIGN_OR_RETURN(Value v, Eval(*n.lhs, input, env));
      if (ToBoolean(v)) return v;
      return Eval(*n.rhs, input, env);
    }
    case NodeType::kBind: {
      VQI_ASSIGN_OR_RETURN(Value v, Eval(*n.rhs, input, env));
      env->Bind(n.value, v);
      return v;
    }
    case NodeType::kCall:
      return EvalCall(n, input, env, nullptr);
    case NodeType::kPartial:
      return EvalPartial(n, input, env);
    case NodeType::kLambda: {
      auto f = std::make_shared<Function>();
      f->kind = Function::Kind::kLambda;
      f->lambda = &n;
      f->closure = env;
      f->input = input;
      return Value::FromFunction(std::move(f));
    }
    case NodeType::kApply:
      return EvalApply(n, input, env);
    case NodeType::kRange:
      return EvalRange(n, input, env);
    case NodeType::kSort: {
      std::vector<Value> items = Items(input);
      return EvalSort(n, items, env);
    }
    default:
      return Internal("jsonata: unexpected node in evaluation");
  }
}

Result<Value> Evaluator::EvalPath(const Node& n, const Value& input, Env* env) {
  std::vector<Value> inputs;
  if (input.IsArray() && n.items[0]->type != NodeType::kVariable) {
    inputs = Items(input);
  } else {
    inputs.push_back(input);
  }
  Value result;
  for (size_t i = 0; i < n.items.size(); ++i) {
    const Node& step = *n.items[i];
    if (i == 0 && step.cons_array) {
      VQI_ASSIGN_OR_RETURN(result, Eval(step, MakeSequence(inputs), env));
    } else {
      VQI_ASSIGN_OR_RETURN(result, EvalStep(step, inputs, env, i + 1 == n.items.size()));
    }
    VQI_RETURN_IF_ERROR(ChargeBlocks(result));  // each step's sequence, before the next step
    if (result.IsUndefined() || (result.IsArray() && result.size() == 0)) break;
    inputs = result.IsArray() ? Items(result) : std::vector<Value>{result};
  }
  if (n.keep_singleton_array) {
    if (result.IsArray() && result.IsCons() && !result.IsSequence()) {
      result = MakeSequence({result});
    }
    if (Array* a = result.owned_array()) a->keep_singleton = true;
  }
  if (n.group) return EvalGroup(*n.group, result, env);
  return result;
}

Result<Value> Evaluator::EvalStep(const Node& step, const std::vector<Value>& inputs, Env* env,
                                  bool last) {
  if (step.type == NodeType::kSort) {
    VQI_ASSIGN_OR_RETURN(Value result, EvalSort(step, inputs, env));
    for (const auto& stage : step.stages) {
      VQI_ASSIGN_OR_RETURN(result, EvalFilter(*stage, result, env));
    }
    return result;
  }
  std::vector<Value> results;
  results.reserve(inputs.size());
  for (const Value& item : inputs) {
    VQI_ASSIGN_OR_RETURN(Value res, Eval(step, item, env));
    for (const auto& stage : step.stages) {
      VQI_ASSIGN_OR_RETURN(res, EvalFilter(*stage, res, env));
    }
    if (res.IsDefined()) results.push_back(std::move(res));
  }
  if (last && results.size() == 1 && results[0].IsArray() && !results[0].IsSequence()) {
    return results[0];
  }
  auto seq = NewSequence();
  for (Value& res : results) {
    if (!res.IsArray() || res.IsCons()) {
      seq->items.push_back(std::move(res));
    } else {
      for (size_t i = 0; i < res.size(); ++i) seq->items.push_back(res.at(i));
    }
  }
  return Value::FromArray(std::move(seq));
}

Result<Value> Evaluator::EvalFilter(const Node& pred, const Value& input, Env* env) {
  auto results = NewSequence();
  if (input.IsUndefined()) return Value::FromArray(std::move(results));
  std::vector<Value> items = Items(input);
  if (pred.type == NodeType::kNumber && pred.predicates.empty() && pred.stages.empty()) {
    double idx = std::floor(pred.number);
    if (idx < 0) idx += static_cast<double>(items.size());
    if (idx >= 0 && idx < static_cast<double>(items.size())) {
      const Value& item = items[static_cast<size_t>(idx)];
      if (item.IsArray()) return item;
      results->items.push_back(item);
    }
    return Value::FromArray(std::move(results));
  }
  const double count = static_cast<double>(items.size());
  for (size_t index = 0; index < items.size(); ++index) {
    const Value& item = items[index];
    VQI_ASSIGN_OR_RETURN(Value res, Eval(pred, item, env));
    bool numbers = res.IsNumber();
    if (res.IsArray() && res.size() > 0) {
      numbers = true;
      for (size_t k = 0; numbers && k < res.size(); ++k) numbers = res.at(k).IsNumber();
    }
    if (numbers) {
      std::vector<Value> idxs = Items(res);
      for (const Value& v : idxs) {
        double ii = std::floor(v.number());
        if (ii < 0) ii += count;
        if (ii == static_cast<double>(index)) results->items.push_back(item);
      }
    } else if (ToBoolean(res)) {
      results->items.push_back(item);
    }
  }
  return Value::FromArray(std::move(results));
}

}  // namespace vqi::jsonata
