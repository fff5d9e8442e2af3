// vqi-inspect: the on-device inspection program (issue 20). Thin: reads the configuration,
// opens the sinks, runs libs/inspect's Inspector until SIGTERM/SIGINT, prints a summary.
// Links libs/inspect (the inference core and ONE backend), libs/base, CLI11 validators only:
// no libtorch, no exporter, no OpenCV dnn unless the opencv backend was chosen
// (tests/inspect/inspect_link_test.sh). docs/design/inspect.md.
//
//   vqi-inspect [--config FILE] [--results FILE|-] [--uncertain-dir DIR] [--max-images N]
//   vqi-inspect [--ipc] [--model-directory DIR] [--model-name N] [--model-version V]
// File mode: the configuration (JSON, keys of docs/design/inspect.md) is FILE, else
// $VQI_INSPECT_CONFIG (JSON text, or a path); a FILE is re-read when it changes.
// IPC mode (under vqi-agent: SVCUID and VQI_IPC_SOCKET set, and no --config, --results or
// $VQI_INSPECT_CONFIG; or --ipc): the configuration is the component's own (GetConfiguration,
// reloaded on configurationUpdate), results go to PublishToIoTCore, uncertain images to
// UploadFile, and the state is reported (RUNNING once the model is loaded, ERRORED before a
// fatal exit). docs/design/inspect.md "Under the agent".
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "cli.h"
#include "vqi/base/file.h"
#include "vqi/base/log.h"
#include "vqi/inspect/backend.h"
#include "vqi/inspect/inspector.h"
#include "vqi/inspect/ipc.h"
#include "vqi/ipc_client/client.h"

namespace {

std::atomic<bool> g_stop{false};
extern "C" void OnSignal(int) { g_stop.store(true); }

int Fail(const vqi::Status& s) {
  std::fprintf(stderr, "vqi-inspect: %s\n", s.ToString().c_str());
  return s.code() == vqi::StatusCode::kInvalidArgument ? 2 : 1;
}

struct Flags {
  std::string config_path, results = "-", uncertain_dir;
  std::string model_directory, model_name, model_version;
  bool ipc = false;
  int64_t max_images = 0;
};

bool IpcModeFromEnv(const CLI::App& app, const Flags& f) {
  auto set = [](const char* name) {
    const char* v = std::getenv(name);
    return v && *v;
  };
  return f.ipc || (set(vqi::ipc::kTokenEnv) && set(vqi::ipc::kSocketEnv) && f.config_path.empty() &&
                   app.count("--results") == 0 && !set("VQI_INSPECT_CONFIG"));
}

void WarnUnknown(const std::vector<std::string>& unknown) {
  for (const std::string& k : unknown)
    if (k != "accessControl") VQI_LOG_WARN("configuration key {} is not used by vqi-inspect", k);
}

int Summary(const vqi::inspect::Inspector& in, const vqi::inspect::IpcResultSink* ipc,
            const vqi::Status& s) {
  const vqi::inspect::InspectCounters n = in.counters();
  std::fprintf(stderr,
               "vqi-inspect: %lld results (%lld errors), %lld already inspected, %lld reloads, "
               "%lld publish retries, %.3f ms/result to publish and commit\n",
               static_cast<long long>(n.images), static_cast<long long>(n.errors),
               static_cast<long long>(n.skipped), static_cast<long long>(n.reloads),
               static_cast<long long>(n.publish_retries),
               n.images ? n.deliver_ms / static_cast<double>(n.images) : 0.0);
  if (in.config().batch > 1)
    std::fprintf(stderr, "vqi-inspect: Batch %d: %lld model runs of %d queued images at once\n",
                 in.config().batch, static_cast<long long>(n.batch_runs), in.config().batch);
  if (ipc)
    std::fprintf(stderr,
                 "vqi-inspect: %lld published to the agent, %lld uploaded, %lld uploads "
                 "skipped, %lld metrics sent (%lld not)\n",
                 static_cast<long long>(ipc->counters().published),
                 static_cast<long long>(ipc->counters().uploaded),
                 static_cast<long long>(ipc->counters().uploads_skipped),
                 static_cast<long long>(ipc->counters().metrics_sent),
                 static_cast<long long>(ipc->counters().metrics_failed));
  return s.ok() ? 0 : Fail(s);
}

// Under the agent: configuration, results and state over the component IPC.
int RunIpc(const Flags& f, const std::string& thing) {
  auto link = vqi::inspect::IpcLink::ConnectFromEnv();
  if (!link.ok()) return Fail(link.status());
  // Best effort: the agent shows ERRORED until the component exits and is restarted.
  auto fatal = [&](const vqi::Status& s) {
    vqi::Status r = (*link)->Use([](vqi::ipc::IpcClient& c) { return c.UpdateState("ERRORED"); });
    if (!r.ok()) VQI_LOG_WARN("could not report ERRORED to the agent: {}", r.ToString());
    return s;
  };
  vqi::Json defaults = vqi::Json::object();
  if (!f.model_directory.empty()) defaults["ModelDirectory"] = f.model_directory;
  if (!f.model_name.empty()) defaults["ModelName"] = f.model_name;
  if (!f.model_version.empty()) defaults["ModelVersion"] = f.model_version;
  vqi::inspect::IpcConfigSource source(**link, thing, defaults);
  std::vector<std::string> unknown;
  auto config = source.Load(&unknown);
  if (!config.ok()) return Fail(fatal(config.status()));
  WarnUnknown(unknown);
  // A relative camera folder lives in the component's work folder (the cwd): made here so the
  // recipe's default works out of the box. An absolute one must exist (a missing mount is an
  // error, not something to paper over).
  if (!config->image_directory.empty() && config->image_directory[0] != '/')
    if (vqi::Status s = vqi::MakeDirs(config->image_directory); !s.ok()) return Fail(fatal(s));

  vqi::inspect::MultiSink sink;
  auto ipc_sink = std::make_unique<vqi::inspect::IpcResultSink>(**link);
  const vqi::inspect::IpcResultSink* ipc = ipc_sink.get();
  sink.Add(std::move(ipc_sink));
  if (f.results != "-") {  // --ipc --results FILE: a local copy as well
    auto lines = vqi::inspect::JsonLinesSink::Open(f.results);
    if (!lines.ok()) return Fail(fatal(lines.status()));
    sink.Add(std::move(*lines));
  }
  if (!f.uncertain_dir.empty())
    sink.Add(std::make_unique<vqi::inspect::FolderUploader>(f.uncertain_dir));

  vqi::inspect::RegisterInspectBackend();
  auto inspector = vqi::inspect::Inspector::Create(*config, sink);
  if (!inspector.ok()) return Fail(fatal(inspector.status()));
  if (vqi::Status s = (*link)->Use([](vqi::ipc::IpcClient& c) { return c.UpdateState("RUNNING"); });
      !s.ok())
    VQI_LOG_WARN("could not report RUNNING to the agent: {}", s.ToString());
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  VQI_LOG_INFO("inspecting {} ({} mode) with {} ({}) as component {}, results to {}",
               config->image_directory, vqi::inspect::ModeName(config->mode), config->ModelPath(),
               vqi::inspect::InspectBackendName(), (*link)->component(), config->Topic());
  vqi::Status s = (*inspector)->Run(g_stop, &source, f.max_images);
  if (!s.ok()) s = fatal(s);
  return Summary(**inspector, ipc, s);
}

}  // namespace

int main(int argc, char** argv) {
  vqi::InitLogging();
  CLI::App app{"vqi-inspect: inspects the images arriving in a folder with the deployed model"};
  Flags f;
  app.add_option("--config", f.config_path, "configuration file (JSON; re-read when it changes)")
      ->check(vqi::cli::NonEmpty());
  app.add_option("--results", f.results,
                 "JSON-lines file the results are appended to ('-': stdout)")
      ->check(vqi::cli::NonEmpty());
  app.add_option("--uncertain-dir", f.uncertain_dir,
                 "copy uncertain images and their results here as well")
      ->check(vqi::cli::NonEmpty());
  app.add_option("--max-images", f.max_images,
                 "stop after this many results (0: run until stopped)")
      ->check(vqi::cli::InRange<int64_t>(0, int64_t{1} << 40));
  app.add_flag("--ipc", f.ipc,
               "IPC mode: run as a component of vqi-agent (the default when SVCUID and "
               "VQI_IPC_SOCKET are set and neither --config nor --results is given)");
  app.add_option("--model-directory", f.model_directory,
                 "IPC mode: ModelDirectory when the configuration does not set it (the recipe "
                 "passes {vqi.model.<group>:artifacts:path})")
      ->check(vqi::cli::NonEmpty());
  app.add_option("--model-name", f.model_name,
                 "IPC mode: ModelName when the configuration does not set it")
      ->check(vqi::cli::NonEmpty());
  app.add_option("--model-version", f.model_version,
                 "IPC mode: ModelVersion when the configuration does not set it")
      ->check(vqi::cli::NonEmpty());
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }

  const char* thing_env = std::getenv("AWS_IOT_THING_NAME");
  const std::string thing = thing_env ? thing_env : "";
  if (IpcModeFromEnv(app, f)) {
    if (!f.config_path.empty())
      return Fail(
          vqi::InvalidArgument("--config and --ipc exclude each other: under the agent "
                               "the configuration is the component's own"));
    return RunIpc(f, thing);
  }
  if (!f.model_directory.empty() || !f.model_name.empty() || !f.model_version.empty())
    return Fail(vqi::InvalidArgument(
        "--model-directory/--model-name/--model-version are for IPC mode; with --config set "
        "ModelDirectory/ModelName/ModelVersion in the configuration"));
  std::unique_ptr<vqi::inspect::FileConfigSource> source;
  vqi::inspect::InspectConfig config;
  std::vector<std::string> unknown;
  std::string config_path = f.config_path;
  if (config_path.empty()) {
    const char* env = std::getenv("VQI_INSPECT_CONFIG");
    if (!env || !*env)
      return Fail(
          vqi::InvalidArgument("no configuration: give --config FILE or set "
                               "VQI_INSPECT_CONFIG (JSON text or a path), or run under vqi-agent "
                               "(IPC mode)"));
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
  WarnUnknown(unknown);

  vqi::inspect::MultiSink sink;
  auto lines = vqi::inspect::JsonLinesSink::Open(f.results);
  if (!lines.ok()) return Fail(lines.status());
  sink.Add(std::move(*lines));
  if (!f.uncertain_dir.empty())
    sink.Add(std::make_unique<vqi::inspect::FolderUploader>(f.uncertain_dir));

  vqi::inspect::RegisterInspectBackend();
  auto inspector = vqi::inspect::Inspector::Create(config, sink);
  if (!inspector.ok()) return Fail(inspector.status());
  std::signal(SIGTERM, OnSignal);
  std::signal(SIGINT, OnSignal);
  VQI_LOG_INFO("inspecting {} ({} mode) with {} ({}), results to {}", config.image_directory,
               vqi::inspect::ModeName(config.mode), config.ModelPath(),
               vqi::inspect::InspectBackendName(), f.results);
  vqi::Status s = (*inspector)->Run(g_stop, source.get(), f.max_images);
  return Summary(**inspector, nullptr, s);
}
