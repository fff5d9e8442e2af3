// IpcClient (vqi/ipc_client/client.h).
#include "vqi/ipc_client/client.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "vqi/base/file.h"

namespace vqi::ipc {
namespace {

constexpr size_t kMaxEvents = 1000;

const std::pair<StatusCode, const char*> kCodes[] = {
    {StatusCode::kOk, "Ok"},
    {StatusCode::kInvalidArgument, "InvalidArgument"},
    {StatusCode::kNotFound, "NotFound"},
    {StatusCode::kAlreadyExists, "AlreadyExists"},
    {StatusCode::kFailedPrecondition, "FailedPrecondition"},
    {StatusCode::kPermissionDenied, "PermissionDenied"},
    {StatusCode::kResourceExhausted, "ResourceExhausted"},
    {StatusCode::kDataLoss, "DataLoss"},
    {StatusCode::kUnavailable, "Unavailable"},
    {StatusCode::kDeadlineExceeded, "DeadlineExceeded"},
    {StatusCode::kUnimplemented, "Unimplemented"},
    {StatusCode::kInternal, "Internal"},
};

}  // namespace

std::string CodeName(StatusCode code) {
  for (const auto& [c, n] : kCodes)
    if (c == code) return n;
  return "Internal";
}

StatusCode CodeFromName(const std::string& name) {
  for (const auto& [c, n] : kCodes)
    if (name == n) return c;
  return StatusCode::kInternal;
}

Result<std::unique_ptr<IpcClient>> IpcClient::Connect(const std::string& socket_path,
                                                      const std::string& token, int timeout_ms) {
  sockaddr_un addr{};
  if (socket_path.empty() || socket_path.size() >= sizeof addr.sun_path)
    return InvalidArgument("IPC socket path \"" + socket_path + "\" is empty or longer than " +
                           std::to_string(sizeof addr.sun_path - 1) + " bytes");
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unavailable(std::string("IPC socket: ") + std::strerror(errno));
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const int e = errno;
    ::close(fd);
    return Unavailable("cannot connect to the agent at " + socket_path + ": " + std::strerror(e));
  }
  std::unique_ptr<IpcClient> c(new IpcClient(fd));
  // The agent may refuse a connection (too many) by answering and closing before our Connect
  // frame is written: then the write fails, but its answer is already waiting — report that.
  const Status wrote = WriteFrame(fd, Json{{"op", "Connect"}, {"id", 0}, {"token", token}});
  Result<Json> read = ReadFrame(fd, c->reader_, wrote.ok() ? timeout_ms : 0);
  if (!wrote.ok() && !read.ok()) return wrote;
  VQI_ASSIGN_OR_RETURN(Json answer, std::move(read));
  if (!answer.value("ok", false))
    return Status(CodeFromName(answer.value("code", "Internal")),
                  answer.value("error", std::string("IPC connect refused")));
  c->component_ = answer.value("component", "");
  return c;
}

Result<std::unique_ptr<IpcClient>> IpcClient::ConnectFromEnv(int timeout_ms) {
  const char* path = std::getenv(kSocketEnv);
  const char* token = std::getenv(kTokenEnv);
  if (!path || !token)
    return FailedPrecondition(std::string(kSocketEnv) + " or " + kTokenEnv +
                              " is not set: this process was not started by vqi-agent");
  return Connect(path, token, timeout_ms);
}

IpcClient::~IpcClient() {
  if (fd_ >= 0) ::close(fd_);
}

void IpcClient::KeepEvent(const Json& f) {
  if (events_.size() >= kMaxEvents) events_.pop_front();
  IpcEvent e;
  e.kind = f.value("event", "");
  e.topic = f.value("topic", f.value("component", ""));
  e.payload = f.contains("payload") ? f["payload"] : f.value("configuration", Json());
  events_.push_back(std::move(e));
}

Result<Json> IpcClient::Call(Json request) {
  const uint64_t id = next_id_++;
  request["id"] = id;
  VQI_RETURN_IF_ERROR(WriteFrame(fd_, request));
  for (;;) {
    VQI_ASSIGN_OR_RETURN(Json f, ReadFrame(fd_, reader_, 30000));
    if (f.contains("event")) {
      KeepEvent(f);
      continue;
    }
    if (!f.contains("id") || f["id"] != id) continue;  // a late answer to an older request
    if (!f.value("ok", false))
      return Status(CodeFromName(f.value("code", "Internal")),
                    f.value("error", std::string("IPC request failed")));
    return f;
  }
}

Result<std::string> IpcClient::PublishToIoTCore(const std::string& topic, const Json& payload) {
  VQI_ASSIGN_OR_RETURN(
      Json a,
      Call({{"op", "PublishToIoTCore"}, {"topic", topic}, {"payload", payload}, {"qos", 1}}));
  return a.value("messageId", "");
}

Status IpcClient::PublishToTopic(const std::string& topic, const Json& payload) {
  return Call({{"op", "PublishToTopic"}, {"topic", topic}, {"payload", payload}}).status();
}

Status IpcClient::SubscribeToTopic(const std::string& filter) {
  return Call({{"op", "SubscribeToTopic"}, {"topic", filter}}).status();
}

Result<Json> IpcClient::GetConfiguration(const std::string& component, const std::string& ptr) {
  Json req{{"op", "GetConfiguration"}, {"pointer", ptr}};
  if (!component.empty()) req["component"] = component;
  VQI_ASSIGN_OR_RETURN(Json a, Call(std::move(req)));
  return a.value("value", Json());
}

Status IpcClient::SubscribeToConfigurationUpdate(const std::string& component) {
  Json req{{"op", "SubscribeToConfigurationUpdate"}};
  if (!component.empty()) req["component"] = component;
  return Call(std::move(req)).status();
}

Status IpcClient::UpdateState(const std::string& state) {
  return Call({{"op", "UpdateState"}, {"state", state}}).status();
}

Status IpcClient::PutMetric(const std::string& metric, double value) {
  return Call({{"op", "PutMetric"}, {"metric", metric}, {"value", value}}).status();
}

Result<std::string> IpcClient::UploadFile(const std::string& path, const std::string& type,
                                          const Json& metadata) {
  VQI_ASSIGN_OR_RETURN(std::string bytes, ReadFile(path, kMaxUploadBytes + 1));
  if (bytes.size() > kMaxUploadBytes)
    return ResourceExhausted("upload " + path + " is larger than " +
                             std::to_string(kMaxUploadBytes) + " bytes (docs/limits.md)");
  const auto slash = path.rfind('/');
  VQI_ASSIGN_OR_RETURN(Json a,
                       Call({{"op", "UploadFile"},
                             {"name", slash == std::string::npos ? path : path.substr(slash + 1)},
                             {"contentType", type},
                             {"metadata", metadata},
                             {"dataBase64", Base64Encode(bytes)}}));
  return a.value("messageId", "");
}

Result<IpcEvent> IpcClient::NextEvent(int timeout_ms) {
  while (events_.empty()) {
    VQI_ASSIGN_OR_RETURN(Json f, ReadFrame(fd_, reader_, timeout_ms));
    if (f.contains("event")) KeepEvent(f);
  }
  IpcEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

}  // namespace vqi::ipc
