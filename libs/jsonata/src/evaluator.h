// Tree-walking evaluator with jsonata-js's semantics (sequences, path flattening, predicates,
// group-by, order-by, closures). One Evaluator runs one evaluation on one thread; the Program
// it reads may be shared.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ast.h"
#include "parser.h"
#include "regex.h"
#include "signature.h"
#include "value.h"

namespace vqi::jsonata {

class Evaluator;

// A variable frame. Frames live in the evaluator's arena for the whole evaluation, so closures
// may point at them without reference cycles.
struct Env {
  Env* parent = nullptr;
  const std::map<std::string, Json>* bindings = nullptr;  // the caller's bindings (root only)
  std::vector<std::pair<std::string, Value>> vars;

  void Bind(const std::string& name, Value v);
  bool Lookup(std::string_view name, Value* out) const;
};

using BuiltinFn = Result<Value> (*)(Evaluator& ev, std::vector<Value>& args, const Value& input);

struct Builtin {
  std::string name;
  Signature signature;
  BuiltinFn fn;
};

struct Function {
  enum class Kind { kLambda, kBuiltin, kRegex, kPartial, kChain };
  Kind kind = Kind::kLambda;
  // kLambda
  const Node* lambda = nullptr;
  Env* closure = nullptr;
  Value input;
  // kBuiltin
  const Builtin* builtin = nullptr;
  // kRegex
  std::shared_ptr<const Regex> regex;
  // kPartial: bound arguments, nullopt-like (undefined + placeholder flag) slots are filled by
  // the call's arguments in order. kChain: target then second.
  Value target;
  Value second;
  std::vector<Value> bound;
  std::vector<bool> placeholder;

  size_t Arity() const;
};

// Looks up a builtin by name (without '$'); nullptr when unknown.
const Value* FindBuiltin(std::string_view name);

// 1,000 nested evaluations use between 1 and 2 MiB of stack in a Release build (measured with
// a thread of a given stack size); threads have 8 MiB. ASan frames are several times larger,
// so fuzzing builds stop at 200.
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
inline constexpr int kMaxEvalDepth = 200;
#else
inline constexpr int kMaxEvalDepth = 1000;
#endif
// Nodes one evaluation may visit (docs/limits.md): ends runaway recursion and loops such as
// $f := function($n){$f($n-1) & $f($n-1)} in bounded time with U1002.
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
// Fuzzing builds (ASan+UBSan, ~30x slower) use a smaller budget so a runaway program ends
// within libFuzzer's timeout; the code path is the same.
inline constexpr int64_t kMaxEvalSteps = 200'000;
#else
inline constexpr int64_t kMaxEvalSteps = 10'000'000;
#endif
// Longest string and longest array one evaluation may build (D1012): 64 MiB / 10^7 items,
// so doubling loops end with an error instead of exhausting memory.
inline constexpr size_t kMaxStringBytes = 64u << 20;
inline constexpr size_t kMaxArrayItems = 10'000'000;
// Values one evaluation may build, all together (D1013, docs/limits.md): every array block
// counts 1 + its items, every object 1 + its members, every string an operator or function
// builds 1 + bytes / 16, each counted once when it is built. The limits above bound one value;
// this bounds their sum, so `[1..8888888].{"l": $}` ends at once instead of building 9 M
// objects (~1.4 GB). 2 M is ~15 times the densest 256 KiB payload (131,072 values) and keeps
// the peak of any refused evaluation near 200 MB.
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
inline constexpr int64_t kMaxBuiltValues = 200'000;
#else
inline constexpr int64_t kMaxBuiltValues = 2'000'000;
#endif

class Evaluator {
 public:
  Evaluator(std::shared_ptr<const Program> program, const std::map<std::string, Json>& bindings);

  // Evaluates the program against `input` (borrowed).
  Result<Value> Run(const Json& input);

  // For builtins: calls a function value. `name` names it in error messages.
  Result<Value> Apply(const Value& fn, std::vector<Value> args, const Value& input,
                      std::string_view name = "");
  // $eval: parses and evaluates `text` with `input` as context in a child of the root frame.
  Result<Value> EvalText(const std::string& text, const Value& input);
  // Milliseconds since the epoch, fixed for the whole evaluation ($now, $millis).
  int64_t now_millis() const { return now_millis_; }
  // Stores `j` for the rest of the evaluation and returns a value borrowing it.
  Value Keep(Json j);
  // Counts `n` values about to be built against kMaxBuiltValues; D1013 once it is exceeded
  // (call before allocating, e.g. for ranges).
  Status Charge(int64_t n);
  // Counts the owned arrays and objects in `v` not counted yet (marking them counted).
  Status ChargeBlocks(const Value& v);

 private:
  Result<Value> Eval(const Node& n, const Value& input, Env* env);
  Result<Value> EvalNode(const Node& n, const Value& input, Env* env);
  Result<Value> EvalPath(const Node& n, const Value& input, Env* env);
  Result<Value> EvalStep(const Node& step, const std::vector<Value>& inputs, Env* env, bool last);
  Result<Value> EvalFilter(const Node& pred, const Value& input, Env* env);
  Result<Value> EvalGroup(const Node& obj, const Value& input, Env* env);
  Result<Value> EvalSort(const Node& sort, const std::vector<Value>& inputs, Env* env);
  Result<Value> EvalBinary(const Node& n, const Value& input, Env* env);
  Result<Value> EvalArray(const Node& n, const Value& input, Env* env);
  Result<Value> EvalRange(const Node& n, const Value& input, Env* env);
  Result<Value> EvalCall(const Node& n, const Value& input, Env* env, const Value* applyto);
  Result<Value> EvalPartial(const Node& n, const Value& input, Env* env);
  Result<Value> EvalApply(const Node& n, const Value& input, Env* env);
  Env* NewEnv(Env* parent);
  // ChargeBlocks plus, for nodes that build strings (not ones passing a value through),
  // the string's bytes.
  Status ChargeResult(const Node& n, const Value& v);

  std::shared_ptr<const Program> program_;
  std::vector<std::shared_ptr<const Program>> eval_programs_;  // from $eval, kept alive
  std::vector<std::unique_ptr<Env>> envs_;
  std::deque<Json> kept_;
  Env* root_ = nullptr;
  int depth_ = 0;
  int64_t steps_ = 0;
  int64_t built_ = 0;  // values built so far (kMaxBuiltValues)
  int64_t now_millis_ = 0;
};

// Helpers shared by evaluator and builtins.
Value Lookup(const Value& input, std::string_view key);
// fn.append: concatenates, wrapping non-arrays; undefined is the identity.
Value Append(const Value& a, const Value& b);
// The items of an array, or {v} for a defined non-array, or {} for undefined.
std::vector<Value> Items(const Value& v);
// "T..."-style message helper: JSON.stringify of a value ("undefined" for undefined).
std::string ValueText(const Value& v);

}  // namespace vqi::jsonata
