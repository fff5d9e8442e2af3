// `vqi-agent run`: the daemon. Without --bundle, local deployments only (`vqi-agent deploy`).
// With --bundle: the network side (libs/agent net.h) takes desired state from the bundle's MQTT
// broker and reports status and heartbeats; components of those deployments come from the
// bundle's `vqi server`, verified (server_source.h).
#include <cstdio>
#include <memory>

#include "commands.h"
#include "vqi/agent/fetch_bundle.h"
#include "vqi/agent/ipc_agent.h"
#include "vqi/agent/net.h"
#include "vqi/agent/server_source.h"
#include "vqi/agent/supervisor.h"
#include "vqi/base/log.h"

namespace vqi::agent_cli {
namespace {

int Fail(const vqi::Status& st) {
  std::fprintf(stderr, "vqi-agent: %s\n", st.message().c_str());
  return 1;
}

// Issue 20: the component IPC (docs/design/ipc.md). A failure to serve it (e.g. a root path
// too long for a Unix socket) is logged and the agent runs without it.
std::unique_ptr<agent::AgentIpc> StartIpc(const agent::Layout& layout, const std::string& thing,
                                          transport::MqttClient* client,
                                          const RunArgs* args = nullptr) {
  agent::AgentIpcOptions io;
  io.thing = thing;
  if (args) {
    io.spool.max_messages = args->spool_max_messages;
    io.spool.max_bytes = args->spool_max_bytes;
  }
  auto made = agent::AgentIpc::Create(layout, io, client);
  if (made.ok()) return std::move(*made);
  VQI_LOG_ERROR("component IPC not served: {}", made.status().ToString());
  return nullptr;
}

// Issue 20: states components report over the IPC show in the engine's states; a stopped
// component's token is dropped. `ipc` is made later (ensure_ipc): the hooks look it up then.
void WireIpcStates(agent::EngineHooks& hooks, const std::unique_ptr<agent::AgentIpc>& ipc) {
  hooks.reported_states = [&ipc] { return ipc ? ipc->ReportedStates() : Json::object(); };
  hooks.component_stopped = [&ipc](const std::string& name) {
    if (ipc) ipc->ComponentStopped(name);
  };
}

int RunLocal(const agent::EngineOptions& o) {
  auto layout = agent::OpenLayout(o.root);
  if (!layout.ok()) return Fail(layout.status());
  // Made at the first lifecycle step or after Start, i.e. once the engine holds the agent lock:
  // a second agent on this root must not replace the running one's socket.
  std::unique_ptr<agent::AgentIpc> ipc;
  bool ipc_tried = false;
  auto ensure_ipc = [&] {
    if (!ipc_tried) ipc = StartIpc(*layout, o.thing_name, nullptr);
    ipc_tried = true;
  };
  agent::EngineHooks hooks;
  hooks.component_env = [&](const std::string& name, const Json& config) {
    ensure_ipc();
    return ipc ? ipc->ComponentEnv(name, config) : std::vector<std::string>{};
  };
  WireIpcStates(hooks, ipc);
  agent::Engine engine(o, agent::DefaultSource, hooks);
  vqi::Status st = engine.Start();
  if (st.ok()) ensure_ipc();
  if (st.ok()) st = engine.Run();
  if (ipc) ipc->server().Stop();
  return st.ok() ? 0 : Fail(st);
}

}  // namespace

int Run(const RunArgs& a) {
  if (a.bundle.empty()) return RunLocal(a.engine);
  agent::EngineOptions o = a.engine;
  auto layout = agent::OpenLayout(o.root);
  if (!layout.ok()) return Fail(layout.status());
  auto setup = agent::FetchSetupFromBundle(a.bundle, layout->root);
  if (!setup.ok()) return Fail(setup.status());
  if (setup->thing.empty())
    return Fail(
        InvalidArgument(a.bundle + "/agent.json: thing: missing (a thing name is required)"));
  o.thing_name = setup->thing;
  auto mqtt = agent::MqttOptionsFromBundle(a.bundle, setup->thing);
  if (!mqtt.ok()) return Fail(mqtt.status());
  // A server that is down costs at most ~4 s of retries per request before the cache is asked.
  setup->options.retry.attempts = 4;
  setup->options.retry.max_backoff = std::chrono::milliseconds(2000);
  setup->options.http.max_recv_bytes_per_second = a.download_kbps * 1024;
  setup->options.cache_max_bytes = a.cache_max_mb << 20;
  mqtt->max_queued = a.mqtt_max_queued;
  mqtt->reconnect_max_ms = static_cast<int>(a.reconnect_max_seconds * 1000);
  // Downloads run on the engine's thread: while one runs, the network side still takes
  // messages in and sends heartbeats (at most every 0.2 s from the download's progress).
  std::unique_ptr<agent::NetAgent> net;
  double next_net_tick = 0;
  setup->options.progress = [&](const std::string&, int64_t) {
    if (net && agent::Supervisor::Now() >= next_net_tick) {
      next_net_tick = agent::Supervisor::Now() + 0.2;
      net->Tick();
    }
    return true;  // never cancelled: a shutdown waits for the download (bounded by its timeouts)
  };
  auto fetcher = agent::ComponentFetcher::Create(setup->options, setup->trusted);
  if (!fetcher.ok()) return Fail(fetcher.status());
  agent::TransferLedger ledger(layout->state() + "/transfer.json");

  agent::SourceFactory sources =
      [&](const Json& src) -> Result<std::unique_ptr<agent::ArtifactSource>> {
    if (src.is_object() && src.value("kind", "") == "server")
      return std::unique_ptr<agent::ArtifactSource>(
          new agent::ServerArtifactSource(**fetcher, ledger));
    return agent::DefaultSource(src);
  };
  agent::EngineHooks hooks;
  hooks.status = [&](const Json& outcome, const Json& source) {
    if (net) net->OnStatus(outcome, source);
  };
  hooks.phase = [&](const Json& deployment, const Json& source, const std::string& phase) {
    if (net) net->OnPhase(deployment, source, phase);
  };
  // Issue 20: component IPC + outbound spool, made once the engine holds the agent lock (at
  // the first lifecycle step of Start, or after it): a second agent on this root must neither
  // replace the socket nor send the spool.
  std::unique_ptr<agent::AgentIpc> ipc;
  bool ipc_tried = false;
  auto ensure_ipc = [&] {
    if (!ipc_tried && net) ipc = StartIpc(*layout, setup->thing, net->client(), &a);
    ipc_tried = ipc_tried || net != nullptr;
  };
  hooks.tick = [&] {
    if (net) net->Tick();
    if (ipc) ipc->Pump();
  };
  hooks.component_env = [&](const std::string& name, const Json& config) {
    ensure_ipc();
    return ipc ? ipc->ComponentEnv(name, config) : std::vector<std::string>{};
  };
  WireIpcStates(hooks, ipc);
  agent::Engine engine(o, sources, hooks);
  agent::NetOptions no;
  no.thing = setup->thing;
  no.mqtt = *mqtt;
  no.heartbeat_seconds = a.heartbeat_seconds;
  auto made = agent::NetAgent::Create(
      no, *layout, [&] { return engine.ComponentStates(); }, [&] { engine.CheckInboxNow(); });
  if (!made.ok()) return Fail(made.status());
  net = std::move(*made);
  // The lock first (Engine::Start): a second agent on this root must not take over the
  // thing's MQTT session. Reports of a resumed deployment wait in the client's queue.
  vqi::Status st = engine.Start();
  if (st.ok()) ensure_ipc();
  if (st.ok()) st = net->Start();
  if (st.ok()) st = engine.Run();
  if (ipc) ipc->server().Stop();  // no new messages; the spool keeps what is not acknowledged
  net->Stop();
  return st.ok() ? 0 : Fail(st);
}

}  // namespace vqi::agent_cli
