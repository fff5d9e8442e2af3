// The `vqi <noun> <verb>` command line. Each area registers its verbs from its own
// `<lib>_cmd*.cc` file (compiled in when that library is built), so areas never edit
// each other's files:
//
//   static const bool kRegistered = vqi::cli::Register([](CLI::App& app, vqi::cli::Context& ctx) {
//     CLI::App& model = vqi::cli::Noun(app, "model", "Train, evaluate and run detectors");
//     auto* train = model.add_subcommand("train", "...");
//     train->callback([&ctx] { vqi::cli::Exit(RunTrain(ctx)); });
//   });
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "vqi/base/status.h"

namespace vqi::cli {

// Global flags, filled before any callback runs.
struct Context {
  std::string home;   // --home (resolved: flag, $VQI_HOME, ~/.vqi)
  int threads = 0;    // --threads (0 = all available cores)
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

}  // namespace vqi::cli
