#include "functions.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

namespace vqi::jsonata {

namespace {

const std::unordered_map<std::string, Value>& Registry() {
  static const auto* registry = [] {
    auto* m = new std::unordered_map<std::string, Value>();
    static std::vector<std::unique_ptr<Builtin>> storage;
    for (auto table : {StringBuiltins(), NumericBuiltins(), ArrayBuiltins(), MiscBuiltins()}) {
      for (const BuiltinDef& def : table) {
        storage.push_back(
            std::make_unique<Builtin>(Builtin{def.name, Signature(def.signature), def.fn}));
        auto f = std::make_shared<Function>();
        f->kind = Function::Kind::kBuiltin;
        f->builtin = storage.back().get();
        (*m)[def.name] = Value::FromFunction(std::move(f));
      }
    }
    return m;
  }();
  return *registry;
}

}  // namespace

const Value* FindBuiltin(std::string_view name) {
  const auto& r = Registry();
  auto it = r.find(std::string(name));
  return it == r.end() ? nullptr : &it->second;
}

Result<Value> StringOf(const Value& v) { return StringOf(v, false); }

Result<Value> StringOf(const Value& v, bool prettify) {
  switch (v.type()) {
    case Type::kUndefined:
      return Value();
    case Type::kString:
      return v;
    case Type::kFunction:
      return Value::String("");
    case Type::kNumber:
      if (!std::isfinite(v.number())) {
        return JsonataError("D3001", "Attempting to invoke string function on Infinity or NaN");
      }
      break;
    default:
      break;
  }
  Value x = v.IsOuterWrapper() && v.size() > 0 ? v.at(0) : v;
  return Value::String(Stringify(x, prettify ? 2 : 0));
}

std::vector<Value> CallbackArgs(const Value& fn, std::vector<Value> all) {
  const Function* f = fn.function();
  size_t arity = all.size();
  if (f) {
    if (f->kind == Function::Kind::kBuiltin) {
      // jsonata-js uses the JavaScript implementation's declared parameter count, which
      // excludes optional parameters; approximate it from the signature.
      arity = f->builtin->signature.required();
    } else {
      arity = f->Arity();
    }
  }
  if (all.size() > arity) all.resize(std::max<size_t>(arity, 1));
  return all;
}

double RoundHalfEven(double x, int precision) {
  if (!std::isfinite(x)) return x;
  double value = x;
  if (precision != 0) {
    // Shift the decimal point in the decimal text, as jsonata-js does, to avoid binary errors.
    std::string s = FormatJsNumber(x);
    size_t e = s.find('e');
    int exp = e == std::string::npos ? 0 : std::atoi(s.c_str() + e + 1);
    std::string mant = s.substr(0, e);
    value = std::strtod((mant + "e" + std::to_string(exp + precision)).c_str(), nullptr);
  }
  double result = std::floor(value + 0.5);
  double diff = result - value;
  if (std::fabs(diff) == 0.5 && std::fabs(std::fmod(result, 2)) == 1) result -= 1;
  if (precision != 0) {
    std::string s = FormatJsNumber(result);
    size_t e = s.find('e');
    int exp = e == std::string::npos ? 0 : std::atoi(s.c_str() + e + 1);
    std::string mant = s.substr(0, e);
    result = std::strtod((mant + "e" + std::to_string(exp - precision)).c_str(), nullptr);
  }
  if (result == 0) result = 0;  // no negative zero
  return result;
}

std::vector<size_t> CodePointOffsets(const std::string& s) {
  std::vector<size_t> offsets;
  offsets.reserve(s.size() + 1);
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) offsets.push_back(i);
  }
  offsets.push_back(s.size());
  return offsets;
}

}  // namespace vqi::jsonata
