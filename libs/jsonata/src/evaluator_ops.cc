// Operators, constructors, grouping, ordering and function application.
#include <cmath>
#include <unordered_map>

#include "evaluator.h"
#include "lexer.h"

namespace vqi::jsonata {
namespace {

const char* OpText(BinOp op) {
  switch (op) {
    case BinOp::kAdd:
      return "+";
    case BinOp::kSub:
      return "-";
    case BinOp::kMul:
      return "*";
    case BinOp::kDiv:
      return "/";
    case BinOp::kMod:
      return "%";
    case BinOp::kEq:
      return "=";
    case BinOp::kNe:
      return "!=";
    case BinOp::kLt:
      return "<";
    case BinOp::kLe:
      return "<=";
    case BinOp::kGt:
      return ">";
    case BinOp::kGe:
      return ">=";
    case BinOp::kConcat:
      return "&";
    case BinOp::kAnd:
      return "and";
    case BinOp::kOr:
      return "or";
    case BinOp::kIn:
      return "in";
  }
  return "?";
}

Status CheckFinite(const Value& v) {
  if (v.IsNumber() && !std::isfinite(v.number())) {
    return JsonataError("D1001", "Number out of range: null");
  }
  return Status::Ok();
}

}  // namespace

Result<Value> StringOf(const Value& v);  // functions_string.cc

Result<Value> Evaluator::EvalBinary(const Node& n, const Value& input, Env* env) {
  VQI_ASSIGN_OR_RETURN(Value lhs, Eval(*n.lhs, input, env));
  if (n.op == BinOp::kAnd || n.op == BinOp::kOr) {
    bool l = ToBoolean(lhs);
    if (n.op == BinOp::kAnd && !l) return Value::Bool(false);
    if (n.op == BinOp::kOr && l) return Value::Bool(true);
    VQI_ASSIGN_OR_RETURN(Value rhs, Eval(*n.rhs, input, env));
    return Value::Bool(ToBoolean(rhs));
  }
  VQI_ASSIGN_OR_RETURN(Value rhs, Eval(*n.rhs, input, env));
  const char* op = OpText(n.op);
  switch (n.op) {
    case BinOp::kAdd:
    case BinOp::kSub:
    case BinOp::kMul:
    case BinOp::kDiv:
    case BinOp::kMod: {
      if (lhs.IsDefined() && !lhs.IsNumber()) {
        return JsonataError("T2001", std::string("The left side of the ") + Quote(op) +
                                         " operator must evaluate to a number");
      }
      VQI_RETURN_IF_ERROR(CheckFinite(lhs));
      if (rhs.IsDefined() && !rhs.IsNumber()) {
        return JsonataError("T2002", std::string("The right side of the ") + Quote(op) +
                                         " operator must evaluate to a number");
      }
      VQI_RETURN_IF_ERROR(CheckFinite(rhs));
      if (lhs.IsUndefined() || rhs.IsUndefined()) return Value();
      double a = lhs.number(), b = rhs.number();
      switch (n.op) {
        case BinOp::kAdd:
          return Value::Number(a + b);
        case BinOp::kSub:
          return Value::Number(a - b);
        case BinOp::kMul:
          return Value::Number(a * b);
        case BinOp::kDiv:
          return Value::Number(a / b);
        default:
          return Value::Number(std::fmod(a, b));
      }
    }
    case BinOp::kEq:
    case BinOp::kNe: {
      if (lhs.IsUndefined() || rhs.IsUndefined()) return Value::Bool(false);
      bool eq = DeepEqual(lhs, rhs);
      return Value::Bool(n.op == BinOp::kEq ? eq : !eq);
    }
    case BinOp::kLt:
    case BinOp::kLe:
    case BinOp::kGt:
    case BinOp::kGe: {
      auto comparable = [](const Value& v) {
        return v.IsUndefined() || v.IsString() || v.IsNumber();
      };
      if (!comparable(lhs) || !comparable(rhs)) {
        return JsonataError("T2010", std::string("The expressions either side of operator ") +
                                         Quote(op) + " must evaluate to numeric or string values");
      }
      if (lhs.IsUndefined() || rhs.IsUndefined()) return Value::Bool(false);
      if (lhs.type() != rhs.type()) {
        return JsonataError("T2009", "The values " + ValueText(lhs) + " and " + ValueText(rhs) +
                                         " either side of operator " + Quote(op) +
                                         " must be of the same data type");
      }
      int cmp;
      if (lhs.IsNumber()) {
        cmp = lhs.number() < rhs.number() ? -1 : (lhs.number() > rhs.number() ? 1 : 0);
        if (std::isnan(lhs.number()) || std::isnan(rhs.number())) return Value::Bool(false);
      } else {
        int c = lhs.str().compare(rhs.str());
        cmp = c < 0 ? -1 : (c > 0 ? 1 : 0);
      }
      switch (n.op) {
        case BinOp::kLt:
          return Value::Bool(cmp < 0);
        case BinOp::kLe:
          return Value::Bool(cmp <= 0);
        case BinOp::kGt:
          return Value::Bool(cmp > 0);
        default:
          return Value::Bool(cmp >= 0);
      }
    }
    case BinOp::kConcat: {
      std::string out;
      if (lhs.IsDefined()) {
        VQI_ASSIGN_OR_RETURN(Value s, StringOf(lhs));
        out += s.str();
      }
      if (rhs.IsDefined()) {
        VQI_ASSIGN_OR_RETURN(Value s, StringOf(rhs));
        if (out.size() + s.str().size() > kMaxStringBytes) {
          return JsonataError("D1012", "The expression builds a string of more than " +
                                           std::to_string(kMaxStringBytes) +
                                           " bytes (limit: docs/limits.md)");
        }
        out += s.str();
      }
      return Value::String(std::move(out));
    }
    case BinOp::kIn: {
      if (lhs.IsUndefined() || rhs.IsUndefined()) return Value::Bool(false);
      std::vector<Value> items = Items(rhs);
      for (const Value& v : items) {
        if (v.type() == lhs.type() && !v.IsArray() && !v.IsObject() && DeepEqual(v, lhs)) {
          return Value::Bool(true);
        }
      }
      return Value::Bool(false);
    }
    default:
      return Internal("jsonata: unexpected operator");
  }
}

Result<Value> Evaluator::EvalArray(const Node& n, const Value& input, Env* env) {
  auto out = std::make_shared<Array>();
  for (const auto& item : n.items) {
    VQI_ASSIGN_OR_RETURN(Value v, Eval(*item, input, env));
    if (v.IsUndefined()) continue;
    if (n.items.size() == 1 && item->type == NodeType::kRange && v.owned_array() &&
        !v.IsSequence()) {
      // `[a..b]`: the range's own fresh array becomes the result instead of a copy (half the
      // memory, and counted once against kMaxBuiltValues).
      v.owned_array()->cons = n.cons_array;
      return v;
    }
    if (item->type == NodeType::kArray || !v.IsArray()) {
      out->items.push_back(std::move(v));
    } else {
      for (size_t i = 0; i < v.size(); ++i) out->items.push_back(v.at(i));
    }
  }
  out->cons = n.cons_array;
  return Value::FromArray(std::move(out));
}

Result<Value> Evaluator::EvalRange(const Node& n, const Value& input, Env* env) {
  VQI_ASSIGN_OR_RETURN(Value lhs, Eval(*n.lhs, input, env));
  VQI_ASSIGN_OR_RETURN(Value rhs, Eval(*n.rhs, input, env));
  auto integer = [](const Value& v) {
    return v.IsNumber() && std::isfinite(v.number()) && std::floor(v.number()) == v.number();
  };
  if (lhs.IsDefined() && !integer(lhs)) {
    return JsonataError("T2003",
                        "The left side of the range operator (..) must evaluate to an integer");
  }
  if (rhs.IsDefined() && !integer(rhs)) {
    return JsonataError("T2004",
                        "The right side of the range operator (..) must evaluate to an integer");
  }
  auto out = std::make_shared<Array>();
  if (lhs.IsUndefined() || rhs.IsUndefined() || lhs.number() > rhs.number()) {
    return Value::FromArray(std::move(out));
  }
  double size = rhs.number() - lhs.number() + 1;
  if (size > 1e7) {
    return JsonataError("D2014",
                        "The size of the sequence allocated by the range operator (..) "
                        "must not exceed 1e7.  Attempted to allocate " +
                            FormatJsNumber(size) + ".");
  }
  VQI_RETURN_IF_ERROR(Charge(1 + static_cast<int64_t>(size)));  // D1013 before allocating
  out->charged = true;
  out->items.reserve(static_cast<size_t>(size));
  // Count items, never step a double: above 2^53, `v += 1` leaves v unchanged and a one-item
  // range looped until memory ran out (found by jsonata_eval_fuzz: 3.3e16..3.3e16).
  const auto count = static_cast<int64_t>(size);
  for (int64_t k = 0; k < count; ++k) {
    out->items.push_back(Value::Number(lhs.number() + static_cast<double>(k)));
  }
  return Value::FromArray(std::move(out));
}

namespace {

// The left fold of Append over `parts` (jsonata-js's group data: fn.append, item by item), in
// linear time: undefined parts are skipped, the first defined part stays as it is while it is
// alone, and from the second on every part is flattened one level into one new array.
Value AppendAll(const std::vector<Value>& parts) {
  Value data;
  std::shared_ptr<Array> joined;
  auto add = [&joined](const Value& v) {
    if (v.IsArray()) {
      for (size_t i = 0; i < v.size(); ++i) joined->items.push_back(v.at(i));
    } else {
      joined->items.push_back(v);
    }
  };
  for (const Value& part : parts) {
    if (part.IsUndefined()) continue;
    if (joined) {
      add(part);
    } else if (data.IsUndefined()) {
      data = part;
    } else {
      joined = std::make_shared<Array>();
      add(data);
      add(part);
    }
  }
  return joined ? Value::FromArray(std::move(joined)) : data;
}

}  // namespace

Result<Value> Evaluator::EvalGroup(const Node& obj, const Value& input, Env* env) {
  std::vector<Value> items = Items(input);
  if (input.IsArray() && items.empty()) items.emplace_back();
  if (input.IsUndefined()) items.emplace_back();
  // A group's items are collected and joined once at the end: folding Append item by item
  // copied the growing array every time, O(n^2) for n items under one key (a fuzzer found
  // `[1..38888]{"k": $}` taking minutes).
  struct Group {
    std::string key;
    std::vector<Value> parts;
    size_t pair;
  };
  std::vector<Group> groups;
  std::unordered_map<std::string, size_t> index;
  for (const Value& item : items) {
    for (size_t p = 0; p < obj.items.size(); ++p) {
      VQI_ASSIGN_OR_RETURN(Value key, Eval(*obj.items[p]->lhs, item, env));
      if (key.IsUndefined()) continue;
      if (!key.IsString()) {
        return JsonataError(
            "T1003", "Key in object structure must evaluate to a string; got: " + ValueText(key));
      }
      auto it = index.find(key.str());
      if (it == index.end()) {
        index.emplace(key.str(), groups.size());
        groups.push_back({key.str(), {item}, p});
      } else {
        Group& g = groups[it->second];
        if (g.pair != p) {
          return JsonataError("D1009",
                              "Multiple key definitions evaluate to same key: " + Quote(key.str()));
        }
        g.parts.push_back(item);
      }
    }
  }
  auto out = std::make_shared<Object>();
  out->fields.reserve(groups.size());
  for (Group& g : groups) {
    VQI_ASSIGN_OR_RETURN(Value v, Eval(*obj.items[g.pair]->rhs, AppendAll(g.parts), env));
    if (v.IsDefined()) out->fields.emplace_back(std::move(g.key), std::move(v));
  }
  return Value::FromObject(std::move(out));
}

Result<Value> Evaluator::EvalSort(const Node& sort, const std::vector<Value>& inputs, Env* env) {
  if (inputs.size() <= 1) return MakeSequence(inputs);
  const size_t terms = sort.items.size();
  std::vector<std::vector<Value>> keys(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    keys[i].reserve(terms);
    for (size_t t = 0; t < terms; ++t) {
      VQI_ASSIGN_OR_RETURN(Value k, Eval(*sort.items[t]->lhs, inputs[i], env));
      keys[i].push_back(std::move(k));
    }
  }
  // after(a, b): a sorts after b.
  Status error;
  auto after = [&](size_t a, size_t b) {
    for (size_t t = 0; t < terms; ++t) {
      const Value& x = keys[a][t];
      const Value& y = keys[b][t];
      int comp;
      if (x.IsUndefined()) {
        comp = y.IsUndefined() ? 0 : 1;
        if (comp == 0) continue;
        return comp == 1;
      }
      if (y.IsUndefined()) return false;
      auto sortable = [](const Value& v) { return v.IsString() || v.IsNumber(); };
      if (!sortable(x) || !sortable(y)) {
        if (error.ok()) {
          error = JsonataError("T2008",
                               "The expressions within an order-by clause must "
                               "evaluate to numeric or string values");
        }
        return false;
      }
      if (x.type() != y.type()) {
        if (error.ok()) {
          error = JsonataError("T2007", "Type mismatch when comparing values " + ValueText(x) +
                                            " and " + ValueText(y) + " in order-by clause");
        }
        return false;
      }
      if (x.IsNumber()) {
        comp = x.number() == y.number() ? 0 : (x.number() < y.number() ? -1 : 1);
      } else {
        int c = x.str().compare(y.str());
        comp = c == 0 ? 0 : (c < 0 ? -1 : 1);
      }
      if (sort.items[t]->descending) comp = -comp;
      if (comp != 0) return comp == 1;
    }
    return false;
  };
  std::vector<size_t> order(inputs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::vector<size_t> tmp(order.size());
  // Stable bottom-up merge sort (robust to any comparator).
  for (size_t width = 1; width < order.size(); width *= 2) {
    for (size_t lo = 0; lo < order.size(); lo += 2 * width) {
      size_t mid = std::min(lo + width, order.size()), hi = std::min(lo + 2 * width, order.size());
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) tmp[k++] = after(order[i], order[j]) ? order[j++] : order[i++];
      while (i < mid) tmp[k++] = order[i++];
      while (j < hi) tmp[k++] = order[j++];
    }
    order.swap(tmp);
    VQI_RETURN_IF_ERROR(error);
  }
  VQI_RETURN_IF_ERROR(error);
  std::vector<Value> out;
  out.reserve(order.size());
  for (size_t i : order) out.push_back(inputs[i]);
  return MakeSequence(std::move(out));
}

Result<Value> Evaluator::EvalCall(const Node& n, const Value& input, Env* env,
                                  const Value* applyto) {
  VQI_ASSIGN_OR_RETURN(Value proc, Eval(*n.lhs, input, env));
  std::string name = n.lhs->type == NodeType::kPath && !n.lhs->items.empty()
                         ? n.lhs->items[0]->value
                         : n.lhs->value;
  if (proc.IsUndefined() && n.lhs->type == NodeType::kPath &&
      n.lhs->items[0]->type == NodeType::kName) {
    Value found;
    if (env->Lookup(name, &found)) {
      return JsonataError("T1005",
                          "Attempted to invoke a non-function. Did you mean $" + name + "?");
    }
  }
  std::vector<Value> args;
  args.reserve(n.items.size() + 1);
  if (applyto) args.push_back(*applyto);
  for (const auto& a : n.items) {
    VQI_ASSIGN_OR_RETURN(Value v, Eval(*a, input, env));
    args.push_back(std::move(v));
  }
  return Apply(proc, std::move(args), input, name);
}

Result<Value> Evaluator::EvalPartial(const Node& n, const Value& input, Env* env) {
  VQI_ASSIGN_OR_RETURN(Value proc, Eval(*n.lhs, input, env));
  if (!proc.IsFunction()) {
    if (n.lhs->type == NodeType::kPath && n.lhs->items[0]->type == NodeType::kName) {
      Value found;
      if (env->Lookup(n.lhs->items[0]->value, &found)) {
        return JsonataError("T1007", "Attempted to partially apply a non-function. Did you mean $" +
                                         n.lhs->items[0]->value + "?");
      }
    }
    return JsonataError("T1008", "Attempted to partially apply a non-function");
  }
  auto f = std::make_shared<Function>();
  f->kind = Function::Kind::kPartial;
  f->target = proc;
  for (const auto& a : n.items) {
    if (a->type == NodeType::kPlaceholder) {
      f->bound.emplace_back();
      f->placeholder.push_back(true);
    } else {
      VQI_ASSIGN_OR_RETURN(Value v, Eval(*a, input, env));
      f->bound.push_back(std::move(v));
      f->placeholder.push_back(false);
    }
  }
  return Value::FromFunction(std::move(f));
}

Result<Value> Evaluator::EvalApply(const Node& n, const Value& input, Env* env) {
  VQI_ASSIGN_OR_RETURN(Value lhs, Eval(*n.lhs, input, env));
  if (n.rhs->type == NodeType::kCall) return EvalCall(*n.rhs, input, env, &lhs);
  VQI_ASSIGN_OR_RETURN(Value fn, Eval(*n.rhs, input, env));
  if (!fn.IsFunction()) {
    return JsonataError(
        "T2006", "The right side of the function application operator ~> must be a function");
  }
  if (lhs.IsFunction()) {
    auto f = std::make_shared<Function>();
    f->kind = Function::Kind::kChain;
    f->target = lhs;
    f->second = fn;
    return Value::FromFunction(std::move(f));
  }
  return Apply(fn, {lhs}, input);
}

Result<Value> Evaluator::Apply(const Value& fn, std::vector<Value> args, const Value& input,
                               std::string_view name) {
  const Function* f = fn.function();
  if (!f) return JsonataError("T1006", "Attempted to invoke a non-function");
  if (depth_ >= kMaxEvalDepth) {
    return JsonataError("U1001",
                        "Stack overflow error: Check for non-terminating recursive "
                        "function.  Consider rewriting as tail-recursive.");
  }
  switch (f->kind) {
    case Function::Kind::kBuiltin: {
      std::string_view fname = name.empty() ? std::string_view(f->builtin->name) : name;
      VQI_ASSIGN_OR_RETURN(std::vector<Value> validated,
                           f->builtin->signature.Validate(args, input, fname));
      ++depth_;
      auto r = f->builtin->fn(*this, validated, input);
      --depth_;
      return r;
    }
    case Function::Kind::kLambda: {
      Env* frame = NewEnv(f->closure);
      const auto& params = f->lambda->params;
      for (size_t i = 0; i < params.size(); ++i) {
        frame->vars.emplace_back(params[i], i < args.size() ? args[i] : Value());
      }
      return Eval(*f->lambda->rhs, f->input, frame);
    }
    case Function::Kind::kRegex: {
      if (args.empty() || !args[0].IsString()) return Value();
      Regex::Match m;
      VQI_ASSIGN_OR_RETURN(bool found, f->regex->Search(args[0].str(), 0, &m));
      if (!found) return Value();
      auto obj = std::make_shared<Object>();
      obj->Set("match", Value::String(m.text));
      obj->Set("start", Value::Number(static_cast<double>(m.start)));
      obj->Set("end", Value::Number(static_cast<double>(m.end)));
      std::vector<Value> groups;
      for (auto& g : m.groups) groups.push_back(g ? Value::String(*g) : Value::String(""));
      obj->Set("groups", MakeArray(std::move(groups)));
      return Value::FromObject(std::move(obj));
    }
    case Function::Kind::kPartial: {
      std::vector<Value> full;
      size_t next = 0;
      for (size_t i = 0; i < f->bound.size(); ++i) {
        if (f->placeholder[i]) {
          full.push_back(next < args.size() ? args[next] : Value());
          ++next;
        } else {
          full.push_back(f->bound[i]);
        }
      }
      return Apply(f->target, std::move(full), input, name);
    }
    case Function::Kind::kChain: {
      VQI_ASSIGN_OR_RETURN(Value mid, Apply(f->target, std::move(args), input, name));
      return Apply(f->second, {mid}, input, name);
    }
  }
  return Internal("jsonata: unknown function kind");
}

}  // namespace vqi::jsonata
