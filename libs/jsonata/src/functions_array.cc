// Array, object and higher-order builtins: $append $reverse $sort $shuffle $distinct $zip $keys
// $lookup $merge $spread $each $sift $map $filter $single $reduce $clone.
#include <algorithm>
#include <random>

#include "functions.h"

namespace vqi::jsonata {
namespace {

Result<Value> FnAppend(Evaluator&, std::vector<Value>& a, const Value&) {
  const Value& x = Arg(a, 0);
  const Value& y = Arg(a, 1);
  if (x.IsUndefined()) return y;
  if (y.IsUndefined()) return x;
  return Append(x, y);
}

Result<Value> FnReverse(Evaluator&, std::vector<Value>& a, const Value&) {
  const Value& arr = Arg(a, 0);
  if (arr.IsUndefined()) return Value();
  if (arr.size() <= 1) return arr;
  std::vector<Value> items = Items(arr);
  std::reverse(items.begin(), items.end());
  return MakeArray(std::move(items));
}

Result<Value> FnSort(Evaluator& ev, std::vector<Value>& a, const Value& input) {
  const Value& arr = Arg(a, 0);
  if (arr.IsUndefined()) return Value();
  if (arr.size() <= 1) return arr;
  // The sorted copy is counted before the O(n log n) work (D1013).
  VQI_RETURN_IF_ERROR(ev.Charge(1 + static_cast<int64_t>(arr.size())));
  std::vector<Value> items = Items(arr);
  const Value& comparator = Arg(a, 1);
  if (comparator.IsUndefined()) {
    bool numbers = true, strings = true;
    for (const Value& v : items) {
      numbers = numbers && v.IsNumber();
      strings = strings && v.IsString();
    }
    if (!numbers && !strings) {
      return JsonataError("D3070",
                          "The single argument form of the sort function can only be "
                          "applied to an array of strings or an array of numbers.  Use "
                          "the second argument to specify a comparison function");
    }
  }
  Status error;
  auto after = [&](const Value& x, const Value& y) {
    if (!error.ok()) return false;
    if (comparator.IsUndefined()) {
      return x.IsNumber() ? x.number() > y.number() : x.str() > y.str();
    }
    auto r = ev.Apply(comparator, {x, y}, input);
    if (!r.ok()) {
      error = r.status();
      return false;
    }
    return ToBoolean(*r);
  };
  std::vector<Value> tmp(items.size());
  for (size_t width = 1; width < items.size(); width *= 2) {
    for (size_t lo = 0; lo < items.size(); lo += 2 * width) {
      size_t mid = std::min(lo + width, items.size()), hi = std::min(lo + 2 * width, items.size());
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) tmp[k++] = after(items[i], items[j]) ? items[j++] : items[i++];
      while (i < mid) tmp[k++] = items[i++];
      while (j < hi) tmp[k++] = items[j++];
    }
    items.swap(tmp);
    VQI_RETURN_IF_ERROR(error);
  }
  Value sorted = MakeArray(std::move(items));
  if (Array* block = sorted.owned_array()) block->charged = true;  // counted above
  return sorted;
}

Result<Value> FnShuffle(Evaluator&, std::vector<Value>& a, const Value&) {
  const Value& arr = Arg(a, 0);
  if (arr.IsUndefined()) return Value();
  if (arr.size() <= 1) return arr;
  std::vector<Value> items = Items(arr);
  thread_local std::mt19937_64 engine(std::random_device{}());
  std::shuffle(items.begin(), items.end(), engine);
  return MakeArray(std::move(items));
}

Result<Value> FnDistinct(Evaluator&, std::vector<Value>& a, const Value&) {
  const Value& arr = Arg(a, 0);
  if (arr.IsUndefined()) return Value();
  if (!arr.IsArray() || arr.size() <= 1) return arr;
  std::vector<Value> out;
  for (size_t i = 0; i < arr.size(); ++i) {
    Value v = arr.at(i);
    bool seen = false;
    for (const Value& o : out) {
      if (DeepEqual(o, v)) {
        seen = true;
        break;
      }
    }
    if (!seen) out.push_back(std::move(v));
  }
  return arr.IsSequence() ? MakeSequence(std::move(out)) : MakeArray(std::move(out));
}

Result<Value> FnZip(Evaluator&, std::vector<Value>& a, const Value&) {
  size_t len = a.empty() ? 0 : SIZE_MAX;
  for (const Value& v : a) len = std::min(len, v.IsArray() ? v.size() : size_t{0});
  std::vector<Value> out;
  for (size_t i = 0; i < len; ++i) {
    std::vector<Value> tuple;
    for (const Value& v : a) tuple.push_back(v.at(i));
    out.push_back(MakeArray(std::move(tuple)));
  }
  return MakeArray(std::move(out));
}

void CollectKeys(const Value& v, std::vector<std::string>* keys) {
  if (v.IsArray()) {
    for (size_t i = 0; i < v.size(); ++i) CollectKeys(v.at(i), keys);
  } else if (v.IsObject()) {
    v.ForEachField([&](const std::string& k, const Value&) {
      if (std::find(keys->begin(), keys->end(), k) == keys->end()) keys->push_back(k);
    });
  }
}

Result<Value> FnKeys(Evaluator&, std::vector<Value>& a, const Value&) {
  std::vector<std::string> keys;
  CollectKeys(Arg(a, 0), &keys);
  std::vector<Value> out;
  for (auto& k : keys) out.push_back(Value::String(std::move(k)));
  return MakeSequence(std::move(out));
}

Result<Value> FnLookup(Evaluator&, std::vector<Value>& a, const Value&) {
  return Lookup(Arg(a, 0), Arg(a, 1).str());
}

Result<Value> FnMerge(Evaluator&, std::vector<Value>& a, const Value&) {
  const Value& arr = Arg(a, 0);
  if (arr.IsUndefined()) return Value();
  auto out = std::make_shared<Object>();
  for (size_t i = 0; i < arr.size(); ++i) {
    arr.at(i).ForEachField([&](const std::string& k, const Value& v) { out->Set(k, v); });
  }
  return Value::FromObject(std::move(out));
}

void Spread(const Value& v, std::vector<Value>* out) {
  if (v.IsArray()) {
    for (size_t i = 0; i < v.size(); ++i) Spread(v.at(i), out);
  } else if (v.IsObject()) {
    v.ForEachField([&](const std::string& k, const Value& f) {
      auto obj = std::make_shared<Object>();
      obj->fields.emplace_back(k, f);
      out->push_back(Value::FromObject(std::move(obj)));
    });
  } else if (v.IsDefined()) {
    out->push_back(v);
  }
}

Result<Value> FnSpread(Evaluator&, std::vector<Value>& a, const Value&) {
  const Value& v = Arg(a, 0);
  if (!v.IsArray() && !v.IsObject()) return v;
  std::vector<Value> out;
  Spread(v, &out);
  return MakeSequence(std::move(out));
}

Result<Value> FnEach(Evaluator& ev, std::vector<Value>& a, const Value& input) {
  const Value& obj = Arg(a, 0);
  if (obj.IsUndefined()) return Value();
  std::vector<Value> out;
  std::vector<std::pair<std::string, Value>> fields;
  obj.ForEachField([&](const std::string& k, const Value& v) { fields.emplace_back(k, v); });
  for (auto& [k, v] : fields) {
    VQI_ASSIGN_OR_RETURN(
        Value r, ev.Apply(Arg(a, 1), CallbackArgs(Arg(a, 1), {v, Value::String(k), obj}), input));
    if (r.IsDefined()) out.push_back(std::move(r));
  }
  return MakeSequence(std::move(out));
}

Result<Value> FnSift(Evaluator& ev, std::vector<Value>& a, const Value& input) {
  const Value& obj = Arg(a, 0);
  if (obj.IsUndefined()) return Value();
  auto out = std::make_shared<Object>();
  std::vector<std::pair<std::string, Value>> fields;
  obj.ForEachField([&](const std::string& k, const Value& v) { fields.emplace_back(k, v); });
  for (auto& [k, v] : fields) {
    VQI_ASSIGN_OR_RETURN(
        Value r, ev.Apply(Arg(a, 1), CallbackArgs(Arg(a, 1), {v, Value::String(k), obj}), input));
    if (ToBoolean(r)) out->fields.emplace_back(k, v);
  }
  if (out->fields.empty()) return Value();
  return Value::FromObject(std::move(out));
}

Result<Value> FnMap(Evaluator& ev, std::vector<Value>& a, const Value& input) {
  const Value& arr = Arg(a, 0);
  if (arr.IsUndefined()) return Value();
  std::vector<Value> out;
  for (size_t i = 0; i < arr.size(); ++i) {
    VQI_ASSIGN_OR_RETURN(
        Value r,
        ev.Apply(Arg(a, 1),
                 CallbackArgs(Arg(a, 1), {arr.at(i), Value::Number(static_cast<double>(i)), arr}),
                 input));
    if (r.IsDefined()) out.push_back(std::move(r));
  }
  return MakeSequence(std::move(out));
}

Result<Value> FnFilter(Evaluator& ev, std::vector<Value>& a, const Value& input) {
  const Value& arr = Arg(a, 0);
  if (arr.IsUndefined()) return Value();
  std::vector<Value> out;
  for (size_t i = 0; i < arr.size(); ++i) {
    Value item = arr.at(i);
    VQI_ASSIGN_OR_RETURN(
        Value r,
        ev.Apply(Arg(a, 1),
                 CallbackArgs(Arg(a, 1), {item, Value::Number(static_cast<double>(i)), arr}),
                 input));
    if (ToBoolean(r)) out.push_back(std::move(item));
  }
  return MakeSequence(std::move(out));
}

Result<Value> FnSingle(Evaluator& ev, std::vector<Value>& a, const Value& input) {
  const Value& arr = Arg(a, 0);
  if (arr.IsUndefined()) return Value();
  Value result;
  bool found = false;
  for (size_t i = 0; i < arr.size(); ++i) {
    Value item = arr.at(i);
    bool positive = true;
    if (Arg(a, 1).IsDefined()) {
      VQI_ASSIGN_OR_RETURN(
          Value r,
          ev.Apply(Arg(a, 1),
                   CallbackArgs(Arg(a, 1), {item, Value::Number(static_cast<double>(i)), arr}),
                   input));
      positive = ToBoolean(r);
    }
    if (!positive) continue;
    if (found) {
      return JsonataError("D3138",
                          "The $single() function expected exactly 1 matching result.  "
                          "Instead it matched more.");
    }
    result = std::move(item);
    found = true;
  }
  if (!found) {
    return JsonataError("D3139",
                        "The $single() function expected exactly 1 matching result.  "
                        "Instead it matched 0.");
  }
  return result;
}

Result<Value> FnReduce(Evaluator& ev, std::vector<Value>& a, const Value& input) {
  const Value& arr = Arg(a, 0);
  if (arr.IsUndefined()) return Value();
  const Function* f = Arg(a, 1).function();
  size_t arity =
      f ? (f->kind == Function::Kind::kBuiltin ? f->builtin->signature.required() : f->Arity()) : 0;
  if (arity < 2) {
    return JsonataError("D3050",
                        "The second argument of reduce function must be a function with "
                        "at least two arguments");
  }
  Value acc;
  size_t i = 0;
  if (Arg(a, 2).IsUndefined() && arr.size() > 0) {
    acc = arr.at(0);
    i = 1;
  } else {
    acc = Arg(a, 2);
  }
  for (; i < arr.size(); ++i) {
    std::vector<Value> args = {acc, arr.at(i)};
    if (arity >= 3) args.push_back(Value::Number(static_cast<double>(i)));
    if (arity >= 4) args.push_back(arr);
    VQI_ASSIGN_OR_RETURN(acc, ev.Apply(Arg(a, 1), std::move(args), input));
  }
  return acc;
}

Result<Value> FnClone(Evaluator&, std::vector<Value>& a, const Value&) { return Arg(a, 0); }

}  // namespace

std::vector<BuiltinDef> ArrayBuiltins() {
  return {
      {"append", "<xx:a>", FnAppend},
      {"reverse", "<a:a>", FnReverse},
      {"sort", "<af?:a>", FnSort},
      {"shuffle", "<a:a>", FnShuffle},
      {"distinct", "<x:x>", FnDistinct},
      {"zip", "<a+>", FnZip},
      {"keys", "<x-:a<s>>", FnKeys},
      {"lookup", "<x-s:x>", FnLookup},
      {"merge", "<a<o>:o>", FnMerge},
      {"spread", "<x-:a<o>>", FnSpread},
      {"each", "<o-f:a>", FnEach},
      {"sift", "<o-f?:o>", FnSift},
      {"map", "<af>", FnMap},
      {"filter", "<af>", FnFilter},
      {"single", "<af?>", FnSingle},
      {"reduce", "<afj?:j>", FnReduce},
      {"clone", "<(oa)-:o>", FnClone},
  };
}

}  // namespace vqi::jsonata
