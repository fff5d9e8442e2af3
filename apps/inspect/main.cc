// vqi-inspect: the on-device inspection program (issue 20). Thin: reads the configuration,
// opens the sinks, runs libs/inspect's Inspector until SIGTERM/SIGINT, prints a summary.
// Links libs/inspect (the inference core and ONE backend), libs/base, CLI11 validators only:
// no libtorch, no exporter, no OpenCV dnn unless the opencv backend was chosen
// (tests/inspect/inspect_link_test.sh). docs/design/inspect.md.
//
//   vqi-inspect [--config FILE] [--results FILE|-] [--uncertain-dir DIR] [--max-images N]
// The configuration (JSON, keys of docs/design/inspect.md) is FILE, else $VQI_INSPECT_CONFIG
// (JSON text, or a path). A FILE is re-read when it changes.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "cli.h"
#include "vqi/base/file.h"
#include "vqi/base/log.h"
#include "vqi/inspect/backend.h"
#include "vqi/inspect/inspector.h"

namespace {

std::atomic<bool> g_stop{false};
extern "C" void OnSignal(int) { g_stop.store(true); }

int Fail(const vqi::Status& s) {
  std::fprintf(stderr, "vqi-inspect: %s\n", s.ToString().c_str());
  return s.code() == vqi::StatusCode::kInvalidArgument ? 2 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  vqi::InitLogging();
  CLI::App app{"vqi-inspect: inspects the images arriving in a folder with the deployed model"};
  std::string config_path, results = "-", uncertain_dir;
  int64_t max_images = 0;
  app.add_option("--config", config_path, "configuration file (JSON; re-read when it changes)")
      ->check(vqi::cli::NonEmpty());
  app.add_option("--results", results, "JSON-lines file the results are appended to ('-': stdout)")
      ->check(vqi::cli::NonEmpty());
  app.add_option("--uncertain-dir", uncertain_dir,
                 "copy uncertain images and their results here (until the agent uploads them)")
      ->check(vqi::cli::NonEmpty());
  app.add_option("--max-images", max_images, "stop after this many results (0: run until stopped)")
      ->check(vqi::cli::InRange<int64_t>(0, int64_t{1} << 40));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  const char* thing_env = std::getenv("AWS_IOT_THING_NAME");
  const std::string thing = thing_env ? thing_env : "";
  std::unique_ptr<vqi::inspect::FileConfigSource> source;
  vqi::inspect::InspectConfig config;
  std::vector<std::string> unknown;
  if (config_path.empty()) {
    const char* env = std::getenv("VQI_INSPECT_CONFIG");
    if (!env || !*env)
      return Fail(
          vqi::InvalidArgument("no configuration: give --config FILE or set "
                               "VQI_INSPECT_CONFIG (JSON text or a path)"));
    const std::string text = env;
    if (text.find('{') == std::string::npos) {
      config_path = text;
    } else {
      auto j = vqi::ParseJson(text, "$VQI_INSPECT_CONFIG");
      if (!j.ok()) return Fail(j.status());
      auto c = vqi::inspect::ParseConfig(*j, "$VQI_INSPECT_CONFIG", thing, &unknown);
      if (!c.ok()) return Fail(c.status());
      config = *c;
    }
  }
  if (!config_path.empty()) {
    auto j = vqi::ReadJsonFile(config_path);
    if (!j.ok()) return Fail(j.status());
    auto c = vqi::inspect::ParseConfig(*j, config_path, thing, &unknown);
    if (!c.ok()) return Fail(c.status());
    config = *c;
    source = std::make_unique<vqi::inspect::FileConfigSource>(config_path, thing);
    (void)source->Poll();  // remember the file as read: only later changes reload
  }
  for (const std::string& k : unknown)
    if (k != "accessControl") VQI_LOG_WARN("configuration key {} is not used by vqi-inspect", k);

  vqi::inspect::MultiSink sink;
  auto lines = vqi::inspect::JsonLinesSink::Open(results);
  if (!lines.ok()) return Fail(lines.status());
  sink.Add(std::move(*lines));
  if (!uncertain_dir.empty())
    sink.Add(std::make_unique<vqi::inspect::FolderUploader>(uncertain_dir));

  vqi::inspect::RegisterInspectBackend();
  auto inspector = vqi::inspect::Inspector::Create(config, sink);
  if (!inspector.ok()) return Fail(inspector.status());
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  VQI_LOG_INFO("inspecting {} ({} mode) with {} ({}), results to {}", config.image_directory,
               vqi::inspect::ModeName(config.mode), config.ModelPath(),
               vqi::inspect::InspectBackendName(), results);
  vqi::Status s = (*inspector)->Run(g_stop, source.get(), max_images);
  const auto& n = (*inspector)->counters();
  std::fprintf(stderr,
               "vqi-inspect: %lld results (%lld errors), %lld already inspected, %lld reloads, "
               "%lld publish retries, %.3f ms/result to publish and commit\n",
               static_cast<long long>(n.images), static_cast<long long>(n.errors),
               static_cast<long long>(n.skipped), static_cast<long long>(n.reloads),
               static_cast<long long>(n.publish_retries),
               n.images ? n.deliver_ms / static_cast<double>(n.images) : 0.0);
  if (!s.ok()) return Fail(s);
  return 0;
}
