// vqi-agent: the edge runtime. Thin: parses flags and calls libs/agent (docs/design/agent.md).
#include <malloc.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli.h"
#include "commands.h"
#include "vqi/agent/engine.h"
#include "vqi/base/file.h"
#include "vqi/base/log.h"

int main(int argc, char** argv) {
  // One malloc arena for all threads: the MQTT thread's messages are small, and a second
  // arena costs resident memory an idle agent never gives back.
  ::mallopt(M_ARENA_MAX, 1);
  // A write to a connection the broker or server closed (OpenSSL writes through the socket)
  // must be an error, not the end of the agent; components get SIGPIPE back (supervisor.cc).
  ::signal(SIGPIPE, SIG_IGN);
  vqi::InitLogging();
  CLI::App app{"vqi-agent: installs, runs and supervises components on a device"};
  app.require_subcommand(1);

  vqi::agent_cli::DeployArgs d;
  auto* deploy = app.add_subcommand(
      "deploy", "apply a Greengrass CreateDeployment document with local recipes and artifacts");
  deploy->add_option("--root", d.root, "agent root folder")
      ->required()
      ->check(vqi::cli::NonEmpty());
  deploy->add_option("--file", d.file, "CreateDeployment document (JSON)")->required();
  deploy->add_option("--recipes", d.recipes, "folder of recipes (*.json, *.yaml)")->required();
  deploy->add_option("--artifacts", d.artifacts, "folder of artifacts <name>/<version>/<file>")
      ->required();
  deploy->add_option("--thing", d.thing, "thing name for {iot:thingName}");
  deploy->add_option("--wait", d.wait_seconds, "seconds to wait for the outcome (0: do not wait)")
      ->check(vqi::cli::InRange(0.0, 86400.0));
  deploy->add_flag("--json", d.json, "print the outcome as JSON");

  vqi::agent::EngineOptions o;
  vqi::agent_cli::RunArgs r;
  auto* run = app.add_subcommand("run", "run the current set and apply queued deployments");
  run->add_option("--root", o.root, "agent root folder")->required()->check(vqi::cli::NonEmpty());
  run->add_option("--bundle", r.bundle,
                  "agent bundle from `vqi thing create`: connect to its broker and server");
  run->add_option("--heartbeat", r.heartbeat_seconds, "seconds between heartbeats (with --bundle)")
      ->check(vqi::cli::InRange(0.5, 86400.0));
  run->add_option("--spool-max-messages", r.spool_max_messages,
                  "outbound spool: messages waiting for the broker (with --bundle)")
      ->check(vqi::cli::InRange(1, 10000000));
  run->add_option("--spool-max-bytes", r.spool_max_bytes,
                  "outbound spool: their bytes on disk (with --bundle)")
      ->check(vqi::cli::InRange(uint64_t{4096}, uint64_t{1} << 40));
  run->add_option("--download-kbps", r.download_kbps,
                  "artifact download bandwidth in KiB/s, 0 = unlimited (with --bundle)")
      ->check(vqi::cli::InRange(int64_t{0}, int64_t{1} << 30));
  run->add_option("--cache-max-mb", r.cache_max_mb,
                  "download cache size in MiB, 0 = unlimited; least recently used blobs are "
                  "evicted past it (installed versions keep their own copies) (with --bundle)")
      ->check(vqi::cli::InRange(int64_t{0}, int64_t{1} << 30));
  run->add_option("--mqtt-max-queued", r.mqtt_max_queued,
                  "MQTT messages waiting for the broker (with --bundle)")
      ->check(vqi::cli::InRange(1, 1000000));
  run->add_option("--reconnect-max-seconds", r.reconnect_max_seconds,
                  "MQTT reconnect backoff cap: 0.5 s doubling to it (with --bundle)")
      ->check(vqi::cli::InRange(0.5, 3600.0));
  run->add_option("--soak", o.soak_seconds, "seconds changed components must stay healthy")
      ->check(vqi::cli::InRange(0.0, 3600.0));
  run->add_option("--restart-base", o.restart_base_seconds, "first restart delay (doubles)")
      ->check(vqi::cli::InRange(0.0, 3600.0));
  run->add_option("--stop-grace", o.stop_grace_seconds, "SIGTERM to SIGKILL, seconds")
      ->check(vqi::cli::InRange(0.0, 3600.0));
  run->add_option("--user", o.user, "when root: the user non-privileged steps run as");
  run->add_option("--thing", o.thing_name, "thing name for {iot:thingName}");

  vqi::agent_cli::StatusArgs s;
  auto* status = app.add_subcommand("status", "the current set, component states, last deployment");
  status->add_option("--root", s.root, "agent root folder")
      ->required()
      ->check(vqi::cli::NonEmpty());
  status->add_flag("--json", s.json, "JSON output");

  CLI11_PARSE(app, argc, argv);
  if (deploy->parsed()) return vqi::agent_cli::Deploy(d);
  if (status->parsed()) return vqi::agent_cli::Status(s);
  r.engine = o;
  return vqi::agent_cli::Run(r);
}
