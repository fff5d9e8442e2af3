// The component side of the agent IPC (docs/design/ipc.md): a blocking client over the Unix
// socket the agent names in the component's environment. Links libs/base only.
//
//   auto c = vqi::ipc::IpcClient::ConnectFromEnv();        // VQI_IPC_SOCKET + SVCUID
//   auto id = (*c)->PublishToIoTCore("vqi/v1/results/<thing>/<me>", result_json);
//
// Errors tell the caller what to do: PermissionDenied (no grant in the recipe's accessControl;
// do not retry), ResourceExhausted (the spool is full; retry later), InvalidArgument (the
// request), Unavailable (the agent is gone; reconnect), Unauthenticated as PermissionDenied
// (wrong token).
//
// Not thread-safe: one thread owns a client. Requests are answered in order; events (local
// topic messages, configuration updates) that arrive while a request waits are kept for
// NextEvent (at most 1000, older ones dropped and counted).
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/ipc_client/frame.h"

namespace vqi::ipc {

// Environment variables the agent sets for every lifecycle step.
inline constexpr const char* kSocketEnv = "VQI_IPC_SOCKET";
inline constexpr const char* kTokenEnv = "SVCUID";

struct IpcEvent {
  std::string kind;   // "message" (a local topic) | "configurationUpdate"
  std::string topic;  // message: the topic; configurationUpdate: the component
  Json payload;       // message: the published JSON; configurationUpdate: the new configuration
};

class IpcClient {
 public:
  static Result<std::unique_ptr<IpcClient>> Connect(const std::string& socket_path,
                                                    const std::string& token,
                                                    int timeout_ms = 5000);
  // FailedPrecondition when the variables are missing (not started by the agent).
  static Result<std::unique_ptr<IpcClient>> ConnectFromEnv(int timeout_ms = 5000);
  ~IpcClient();
  IpcClient(const IpcClient&) = delete;
  IpcClient& operator=(const IpcClient&) = delete;

  const std::string& component() const { return component_; }  // the agent's name for us

  // Cloud publish (QoS 1 through the agent's durable spool). OK = the message is on the
  // agent's disk; returns its id ("vqiMessageId" in the delivered payload).
  Result<std::string> PublishToIoTCore(const std::string& topic, const Json& payload);
  // Local publish/subscribe between components (not durable, not sent to the cloud).
  Status PublishToTopic(const std::string& topic, const Json& payload);
  Status SubscribeToTopic(const std::string& topic_filter);
  // The configuration of `component` (empty: our own), optionally at a JSON pointer.
  Result<Json> GetConfiguration(const std::string& component = "", const std::string& pointer = "");
  Status SubscribeToConfigurationUpdate(const std::string& component = "");
  // "RUNNING" or "ERRORED" (Greengrass's UpdateState).
  Status UpdateState(const std::string& state);
  // One metric value (what VQI_METRICS_FILE lines carried; the agent appends it there).
  Status PutMetric(const std::string& metric, double value);
  // A file (≤ kMaxUploadBytes) copied into the agent's spool; returns the message id.
  Result<std::string> UploadFile(const std::string& path, const std::string& content_type,
                                 const Json& metadata = Json::object());

  // The next event, waiting up to timeout_ms (0: only what has already arrived).
  // DeadlineExceeded when none came.
  Result<IpcEvent> NextEvent(int timeout_ms);

  // One raw request (the operations above use it): `request` gets an "id"; the answer's
  // error becomes a Status.
  Result<Json> Call(Json request);

 private:
  explicit IpcClient(int fd) : fd_(fd) {}
  void KeepEvent(const Json& frame);

  int fd_ = -1;
  uint64_t next_id_ = 1;
  FrameReader reader_;
  std::deque<IpcEvent> events_;
  std::string component_;
};

// The error code names used on the wire ("PermissionDenied", ...) and back.
std::string CodeName(StatusCode code);
StatusCode CodeFromName(const std::string& name);

}  // namespace vqi::ipc
