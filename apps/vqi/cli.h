// The `vqi <noun> <verb>` command line. Each area registers its verbs from its own
// `<lib>_cmd*.cc` file (compiled in when that library is built), so areas never edit
// each other's files:
//
//   static const bool kRegistered = vqi::cli::Register([](CLI::App& app, vqi::cli::Context& ctx) {
//     CLI::App& model = vqi::cli::Noun(app, "model", "Train, evaluate and run detectors");
//     auto* train = model.add_subcommand("train", "...");
//     train->add_option("--batch", f->batch, "batch size")->check(vqi::cli::InRange(1, 1024));
//     train->callback([&ctx] { vqi::cli::Exit(RunTrain(ctx)); });
//   });
//
// Every number on the command line is validated before any verb runs (issue 16): attach
// `->check(InRange(lo, hi))` to each numeric option (the type of lo/hi picks integer or
// floating-point parsing; use the option variable's type). The whole text must be a number of
// that kind, floats must be finite, and the value must lie in [lo, hi]; otherwise `vqi` prints
//   error: --threads: 65535 is out of range [1, 256]
//   error: --batch: 'x' is not a decimal integer (accepted range [1, 1024])
//   error: --lr: nan is not a finite number (accepted range [1e-08, 10])
// and exits with code 2 (every command-line error exits 2, as Exit() does for InvalidArgument).
// `->check(NonEmpty())` refuses an explicitly empty string (`--out ""`), and
// `->transform(ThreadCount())` takes `all` (all available cores) or 1..kMaxThreads (transform,
// not check: it rewrites `all` into the number).
#pragma once

#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <system_error>
#include <type_traits>

#include "vqi/base/status.h"
#include "vqi/base/system.h"

namespace vqi::cli {

// Global flags, filled before any callback runs.
struct Context {
  std::string home;   // --home (resolved: flag, $VQI_HOME, ~/.vqi); never empty
  int threads = 0;    // --threads, resolved: 1..kMaxThreads (default and `all`: available cores)
  bool json = false;  // --json: machine-readable output where a command supports it
};

using Registrar = std::function<void(CLI::App&, Context&)>;
bool Register(Registrar r);

// The subcommand `name` of `app`, created on first use.
CLI::App& Noun(CLI::App& app, const std::string& name, const std::string& description);

// Ends a command: prints a non-OK status to stderr and exits with 1 (2 for invalid input).
[[noreturn]] void Exit(const Status& status);
// Ends a command with an explicit exit code.
[[noreturn]] void ExitCode(int code);

// Adds the global flags and every registered verb to `app`; `ctx` is filled when parsing
// completes. Used by main() and by the CLI fuzz target.
void BuildApp(CLI::App& app, Context& ctx);

// Parses and runs `argv` (the vqi program). Returns the process exit code.
int Main(int argc, char** argv);

// ---- Validators -------------------------------------------------------------------------

namespace detail {

template <class T>
std::string FormatNumber(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", static_cast<double>(v));
    return buf;
  } else {
    return std::to_string(v);
  }
}

// "" when `s` is entirely a decimal number of type T within [lo, hi], else the reason.
// Integers with a leading zero are refused: CLI11 would read "010" as octal 8.
template <class T>
std::string CheckNumber(const std::string& s, T lo, T hi) {
  const std::string range = "[" + FormatNumber(lo) + ", " + FormatNumber(hi) + "]";
  constexpr bool kFloat = std::is_floating_point_v<T>;
  const char* kind = kFloat ? "a number" : "a decimal integer";
  const char* b = s.data();
  const char* e = s.data() + s.size();
  if (b != e && *b == '+') {  // "+5" is 5; from_chars takes only '-'
    ++b;
    if (b != e && *b == '-') b = e;  // "+-5": refused below
  }
  T v{};
  std::from_chars_result r;
  if constexpr (kFloat)
    r = std::from_chars(b, e, v, std::chars_format::general);
  else
    r = std::from_chars(b, e, v);
  if (r.ec == std::errc::result_out_of_range) return s + " is out of range " + range;
  if constexpr (std::is_unsigned_v<T>) {
    // from_chars refuses a minus sign for unsigned types: "-3" is out of range, not garbage.
    if (r.ec == std::errc::invalid_argument && b != e && *b == '-') {
      long long neg = 0;
      auto rn = std::from_chars(b, e, neg);
      if (rn.ptr == e) return s + " is out of range " + range;
    }
  }
  const char* digits = (b != e && *b == '-') ? b + 1 : b;
  const bool octal_looking = !kFloat && e - digits > 1 && *digits == '0';
  if (r.ec != std::errc() || r.ptr != e || b == e || octal_looking)
    return "'" + s + "' is not " + kind + " (accepted range " + range + ")";
  if constexpr (kFloat)
    if (!std::isfinite(v)) return s + " is not a finite number (accepted range " + range + ")";
  if (v < lo || v > hi) return s + " is out of range " + range;
  return "";
}

}  // namespace detail

// A number of type T in [lo, hi] (inclusive). T must match the option's variable type.
template <class T>
CLI::Validator InRange(T lo, T hi) {
  static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>);
  const std::string range = "[" + detail::FormatNumber(lo) + ", " + detail::FormatNumber(hi) + "]";
  return CLI::Validator([lo, hi](std::string& s) { return detail::CheckNumber<T>(s, lo, hi); },
                        range, "RANGE");
}

// A string that is not empty (for names, paths and folders given explicitly).
CLI::Validator NonEmpty();

// A thread count: `all` (the cores this process may use, at most kMaxThreads) or an integer
// in [1, kMaxThreads]. `all` is rewritten to the number before the option stores it.
CLI::Validator ThreadCount();

// `--precision auto|fp32|bf16|int8` for commands that run an ONNX model (vqi/infer/backend.h
// Precision: auto = as the file says; bf16 needs the onednn backend and AVX512-BF16).
void AddPrecisionFlag(CLI::App* cmd, std::string& precision);

}  // namespace vqi::cli
