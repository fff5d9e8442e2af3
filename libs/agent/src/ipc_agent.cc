// AgentIpc (vqi/agent/ipc_agent.h).
#include "vqi/agent/ipc_agent.h"

#include "vqi/ipc_client/client.h"

namespace vqi::agent {

Result<std::unique_ptr<AgentIpc>> AgentIpc::Create(const Layout& layout, AgentIpcOptions o,
                                                   transport::MqttClient* client) {
  std::unique_ptr<AgentIpc> a(new AgentIpc());
  a->layout_ = layout;
  if (client) {
    if (o.spool.dir.empty()) o.spool.dir = layout.root + "/spool";
    VQI_ASSIGN_OR_RETURN(a->spool_, Spool::Open(o.spool));
    a->sender_ = std::make_unique<SpoolSender>(*a->spool_, *client);
  }
  if (o.ipc.socket_path.empty()) o.ipc.socket_path = layout.root + "/ipc.socket";
  o.ipc.thing = o.thing;
  a->socket_path_ = o.ipc.socket_path;
  SpoolSender* sender = a->sender_.get();
  VQI_ASSIGN_OR_RETURN(a->server_, IpcServer::Start(o.ipc, a->spool_.get(), [sender] {
                         if (sender) sender->Pump();
                       }));
  a->Pump();  // what an earlier run left in the spool
  return a;
}

std::vector<std::string> AgentIpc::ComponentEnv(const std::string& name, const Json& config) {
  server_->ClearState(name);
  const std::string token =
      server_->Register({name, config, layout_.work(name) + "/metrics.jsonl"});
  return {std::string(ipc::kSocketEnv) + "=" + socket_path_,
          std::string(ipc::kTokenEnv) + "=" + token};
}

void AgentIpc::ComponentStopped(const std::string& name) { server_->Unregister(name); }

Json AgentIpc::ReportedStates() const { return server_->States(); }

void AgentIpc::Pump() {
  if (sender_) sender_->Pump();
}

}  // namespace vqi::agent
