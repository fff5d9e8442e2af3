// The agent's component IPC server (docs/design/ipc.md): a Unix-domain socket speaking
// length-prefixed JSON frames (vqi/ipc_client/frame.h). Each component authenticates with the
// token the agent put in its environment (SVCUID) and is authorized by its configuration's
// `accessControl` (vqi/agent/ipc_access.h). Cloud publishes and uploads go into the durable
// Spool; local topics, configuration reads and updates, state and metrics are served here.
//
// Threading: the server runs one thread of its own (one poll loop over the listening socket,
// the connections and a wake pipe; SIGCHLD/SIGTERM/SIGINT/SIGHUP blocked); nothing it does
// blocks on a component. Register,
// Unregister, States and Stats may be called from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "vqi/agent/spool.h"
#include "vqi/base/json.h"
#include "vqi/base/status.h"

namespace vqi::agent {

struct IpcServerOptions {
  std::string socket_path;            // e.g. <root>/ipc.socket (≤ 107 bytes); replaced at Start
  std::string thing;                  // the thing name: cloud topics must be under
                                      // vqi/v1/results/<thing>/ (the broker's ACL)
  size_t max_connections = 64;        // beyond: ResourceExhausted, connection closed
  size_t max_frame_bytes = 1u << 20;  // ipc::kMaxFrameBytes
  size_t max_pending_out_bytes = 4u << 20;  // per connection unsent answers/events; beyond:
                                            // the (stuck) connection is closed
};

// What the server knows of a component (the engine registers each running one).
struct IpcComponent {
  std::string name;
  Json configuration = Json::object();  // effective configuration (incl. "accessControl")
  std::string metrics_file;             // PutMetric appends {"metric","value"} lines here
};

struct IpcServerStats {
  uint64_t connections = 0;  // accepted since Start
  size_t open = 0;           // now
  uint64_t requests = 0;     // answered
  uint64_t denied = 0;       // PermissionDenied answers (token or grant)
  uint64_t malformed = 0;    // connections closed for a bad frame
  uint64_t spooled = 0;      // cloud publishes and uploads stored
};

class IpcServer {
 public:
  // Binds the socket (mode 0666: components may run as another user; the token is the
  // authentication) and starts the thread. `spool` may be null (cloud operations then answer
  // Unavailable); `on_spooled` runs on the IPC thread after each stored message (the sender's
  // Pump). Must outlive nothing: Stop joins the thread.
  static Result<std::unique_ptr<IpcServer>> Start(const IpcServerOptions& options, Spool* spool,
                                                  std::function<void()> on_spooled = nullptr);
  ~IpcServer();  // Stop()
  IpcServer(const IpcServer&) = delete;
  IpcServer& operator=(const IpcServer&) = delete;

  // Adds or updates a component; returns its token (random, 256 bits, the same until
  // Unregister). When the configuration changed, subscribers of it get a configurationUpdate.
  std::string Register(const IpcComponent& component);
  // Forgets the component and its token; its open connections are closed.
  void Unregister(const std::string& name);
  // Forgets the state the component reported (a new process of it starts: it reports its own).
  void ClearState(const std::string& name);
  // {name: state} as last reported with UpdateState.
  Json States() const;
  IpcServerStats Stats() const;
  // Closes every connection, removes the socket file, joins the thread. Idempotent.
  void Stop();

  struct Impl;

 private:
  explicit IpcServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vqi::agent
