// Builtin function library. Each functions_*.cc file contributes a table of
// {name, signature, implementation}; functions.cc assembles the registry.
#pragma once

#include <string>
#include <vector>

#include "evaluator.h"
#include "lexer.h"

namespace vqi::jsonata {

struct BuiltinDef {
  const char* name;
  const char* signature;
  BuiltinFn fn;
};

std::vector<BuiltinDef> StringBuiltins();
std::vector<BuiltinDef> NumericBuiltins();
std::vector<BuiltinDef> ArrayBuiltins();
std::vector<BuiltinDef> MiscBuiltins();

inline const Value& Arg(const std::vector<Value>& args, size_t i) {
  static const Value kUndefined;
  return i < args.size() ? args[i] : kUndefined;
}

// fn.string(v): undefined stays undefined; D3001 for non-finite numbers.
Result<Value> StringOf(const Value& v);
Result<Value> StringOf(const Value& v, bool prettify);
// Arguments for a higher-order callback, trimmed to the callback's arity (jsonata-js's
// hofFuncArgs).
std::vector<Value> CallbackArgs(const Value& fn, std::vector<Value> all);
// JSONata's $round (round half to even at `precision` decimal places).
double RoundHalfEven(double x, int precision);
// UTF-8 code point boundaries: offsets of each code point start plus the end.
std::vector<size_t> CodePointOffsets(const std::string& s);

}  // namespace vqi::jsonata
