// vqi: the command line. Thin: parses flags and calls libraries.
#include <cstdio>
#include <vector>

#include "cli.h"
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

int Main(int argc, char** argv) {
  InitLogging();
  CLI::App app{"vqi: visual quality inspection at the edge"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "vqi 0.1.0");
  Context ctx;
  std::string home_flag;
  app.add_option("--home", home_flag, "vqi home directory (default $VQI_HOME or ~/.vqi)");
  app.add_option("--threads", ctx.threads, "worker threads (default: all available cores)");
  app.add_flag("--json", ctx.json, "machine-readable output");
  app.parse_complete_callback([&] {
    ctx.home = ResolveHome(home_flag);
    if (ctx.threads <= 0) ctx.threads = HardwareThreads();
  });
  for (auto& r : Registrars()) r(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const ExitRequest& e) {
    return e.code;
  }
  return 0;
}

}  // namespace vqi::cli

int main(int argc, char** argv) { return vqi::cli::Main(argc, argv); }
