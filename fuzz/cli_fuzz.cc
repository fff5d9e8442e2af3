// libFuzzer: the vqi command-line layer. The input is argv, NUL-separated; it is parsed by the
// real vqi app (global flags, validators, the verbs linked in) with every verb callback
// removed, so only parsing runs. A parse either succeeds or ends in CLI::ParseError; when it
// succeeds, the validated values must be in their ranges.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cli.h"

namespace {

// A verb holding one option of each validated kind (as `vqi model train` uses them).
struct FuzzFlags {
  int count = 1;
  double prob = 0.5;
  uint64_t seed = 0;
  int threads = 0;
  std::string name = "x";
};

void StripCallbacks(CLI::App* app) {
  app->callback(std::function<void()>());
  for (CLI::App* sub : app->get_subcommands([](CLI::App*) { return true; })) StripCallbacks(sub);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  std::vector<std::string> args{"vqi"};
  std::string cur;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      args.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(data[i]));
    }
  }
  args.push_back(cur);
  if (args.size() > 64) return 0;

  CLI::App app{"vqi"};
  vqi::cli::Context ctx;
  vqi::cli::BuildApp(app, ctx);
  FuzzFlags f;
  CLI::App* verb = app.add_subcommand("fuzzverb", "fuzz");
  verb->add_option("--count", f.count)->check(vqi::cli::InRange(1, 1000));
  verb->add_option("--prob", f.prob)->check(vqi::cli::InRange(0.0, 1.0));
  verb->add_option("--seed", f.seed)->check(vqi::cli::InRange<uint64_t>(0, UINT64_MAX));
  verb->add_option("--threads", f.threads)->transform(vqi::cli::ThreadCount());
  verb->add_option("--name", f.name)->check(vqi::cli::NonEmpty());
  StripCallbacks(&app);

  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError&) {
    return 0;  // refused with a message (help and version included)
  }
  // Accepted: every validated value is in range.
  if (ctx.threads < 1 || ctx.threads > vqi::kMaxThreads || ctx.home.empty()) __builtin_trap();
  if (f.count < 1 || f.count > 1000) __builtin_trap();
  if (!(f.prob >= 0.0 && f.prob <= 1.0)) __builtin_trap();
  if (verb->count("--threads") > 0 && (f.threads < 1 || f.threads > vqi::kMaxThreads))
    __builtin_trap();
  if (f.name.empty()) __builtin_trap();
  return 0;
}
