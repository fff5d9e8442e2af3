// vqi-agent's verbs: deploy (local mode), run (the daemon), status.
#pragma once

#include <string>

#include "vqi/agent/engine.h"

namespace vqi::agent_cli {

struct DeployArgs {
  std::string root, file, recipes, artifacts, thing = "local";
  double wait_seconds = 600;
  bool json = false;
};
int Deploy(const DeployArgs& a);

// The daemon. With a bundle: MQTT desired state in, status/heartbeat out, components from
// `vqi server` (run_cmd.cc).
struct RunArgs {
  agent::EngineOptions engine;
  std::string bundle;
  double heartbeat_seconds = 30;
  // Issue 20: the outbound spool's bounds (docs/design/ipc.md, docs/limits.md).
  size_t spool_max_messages = 10000;
  uint64_t spool_max_bytes = 64ull << 20;
  // Device limits (docs/resource-limits.md): 0 = unlimited.
  int64_t download_kbps = 0;      // artifact download bandwidth, KiB/s
  int64_t cache_max_mb = 0;       // downloaded blobs kept by digest (LRU eviction past it)
  size_t mqtt_max_queued = 1000;  // MQTT messages waiting for the broker
  // The MQTT reconnect backoff's cap (0.5 s doubling to it, 20 % jitter): after a broker outage
  // results wait at most about this long (docs/design/agent.md, docs/limits.md).
  double reconnect_max_seconds = 10;
};
int Run(const RunArgs& a);

struct StatusArgs {
  std::string root;
  bool json = false;
};
int Status(const StatusArgs& a);

}  // namespace vqi::agent_cli
