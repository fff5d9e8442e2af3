// The vqi command line: verb registry, global flags, validators and the exit protocol.
#include "cli.h"

#include <vector>

#include "vqi/base/log.h"
#include "vqi/base/system.h"

namespace vqi::cli {

static std::vector<Registrar>& Registrars() {
  static std::vector<Registrar> r;
  return r;
}

bool Register(Registrar r) {
  Registrars().push_back(std::move(r));
  return true;
}

CLI::App& Noun(CLI::App& app, const std::string& name, const std::string& description) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
    if (sub->get_name() == name) return *sub;
  CLI::App* sub = app.add_subcommand(name, description);
  sub->require_subcommand(1);
  return *sub;
}

namespace {
struct ExitRequest {
  int code;
};
}  // namespace

void Exit(const Status& status) {
  if (status.ok()) throw ExitRequest{0};
  std::fprintf(stderr, "error: %s\n", status.ToString().c_str());
  throw ExitRequest{status.code() == StatusCode::kInvalidArgument ? 2 : 1};
}

void ExitCode(int code) { throw ExitRequest{code}; }

CLI::Validator NonEmpty() {
  return CLI::Validator(
      [](std::string& s) -> std::string { return s.empty() ? "must not be empty" : ""; },
      "NONEMPTY", "NONEMPTY");
}

void AddPrecisionFlag(CLI::App* cmd, std::string& precision) {
  cmd->add_option("--precision", precision,
                  "ONNX arithmetic: auto (as the file: fp32, or int8 for a QDQ file) | fp32 | "
                  "bf16 (onednn, AVX512-BF16; on an int8 file: its float layers in bf16) | int8")
      ->check(CLI::IsMember({"auto", "fp32", "bf16", "int8"}))
      ->capture_default_str();
}

CLI::Validator ThreadCount() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        if (s == "all") {
          s = std::to_string(HardwareThreads());
          return "";
        }
        std::string why = detail::CheckNumber<int>(s, 1, kMaxThreads);
        if (!why.empty()) why += " or 'all' for all available cores";
        return why;
      },
      "all|[1, " + std::to_string(kMaxThreads) + "]", "THREADS");
}

void BuildApp(CLI::App& app, Context& ctx) {
  app.require_subcommand(1);
  app.set_version_flag("--version", "vqi 0.1.0");
  // Every command-line error: "error: <what>", a hint, exit code 2 (see Main).
  app.failure_message([](const CLI::App*, const CLI::Error& e) {
    return "error: " + std::string(e.what()) + "\nRun with --help for more information.\n";
  });
  auto home_flag = std::make_shared<std::string>();
  app.add_option("--home", *home_flag, "vqi home directory (default $VQI_HOME or ~/.vqi)")
      ->check(NonEmpty());
  app.add_option("--threads", ctx.threads,
                 "worker threads: 1.." + std::to_string(kMaxThreads) +
                     " or all (default: all available cores)")
      ->transform(ThreadCount());
  app.add_flag("--json", ctx.json, "machine-readable output");
  app.parse_complete_callback([&ctx, home_flag] {
    ctx.home = ResolveHome(*home_flag);
    if (ctx.threads == 0) ctx.threads = HardwareThreads();
  });
  for (auto& r : Registrars()) r(app, ctx);
}

int Main(int argc, char** argv) {
  InitLogging();
  CLI::App app{"vqi: visual quality inspection at the edge"};
  Context ctx;
  BuildApp(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help/version (0) or the error
    return code == 0 ? 0 : 2;
  } catch (const ExitRequest& e) {
    return e.code;
  }
  return 0;
}

}  // namespace vqi::cli
