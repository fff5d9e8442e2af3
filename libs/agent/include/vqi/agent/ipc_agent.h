// The daemon's side of issue 20 in one object (docs/design/ipc.md "In the agent"): the
// outbound spool (<root>/spool/), its sender over the network side's MqttClient, and the
// component IPC server on <root>/ipc.socket. `vqi-agent run` creates one and wires it to the
// engine hooks: component_env (socket + token per lifecycle step) and tick (Pump).
//
// Thread-safety: as its parts (Spool, SpoolSender, IpcServer are thread-safe).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "vqi/agent/ipc_server.h"
#include "vqi/agent/spool.h"
#include "vqi/agent/spool_sender.h"
#include "vqi/agent/state.h"
#include "vqi/transport/mqtt_client.h"

namespace vqi::agent {

struct AgentIpcOptions {
  std::string thing;
  SpoolOptions spool;    // dir defaults to <root>/spool
  IpcServerOptions ipc;  // socket_path defaults to <root>/ipc.socket
};

class AgentIpc {
 public:
  // `client` null: local mode, no spool (cloud operations answer Unavailable); otherwise the
  // spool is opened (its messages from an earlier run are sent again) and must outlive
  // nothing but this object. The client's Disconnect must come before this is destroyed.
  static Result<std::unique_ptr<AgentIpc>> Create(const Layout& layout, AgentIpcOptions options,
                                                  transport::MqttClient* client);
  // Registers the component (its configuration, its metrics file) and returns the entries
  // VQI_IPC_SOCKET=<path> and SVCUID=<token> for its environment.
  // A state the component reported earlier is forgotten (a new process of it starts).
  std::vector<std::string> ComponentEnv(const std::string& name, const Json& configuration);
  // The engine stopped the component: its token is invalidated (IpcServer::Unregister).
  void ComponentStopped(const std::string& name);
  // {name: "RUNNING"|"ERRORED"} reported with UpdateState (engine hook reported_states).
  Json ReportedStates() const;
  // Hands spooled messages to the MQTT client (engine tick; also after each Append and ack).
  void Pump();
  Spool* spool() { return spool_.get(); }
  IpcServer& server() { return *server_; }

 private:
  AgentIpc() = default;
  Layout layout_;
  std::unique_ptr<Spool> spool_;
  std::unique_ptr<SpoolSender> sender_;
  std::unique_ptr<IpcServer> server_;
  std::string socket_path_;
};

}  // namespace vqi::agent
