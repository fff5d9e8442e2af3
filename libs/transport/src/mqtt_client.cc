// MqttClient over libmosquitto: the caller-facing half (options, connect, publish, subscribe,
// disconnect). The network thread is ours, not mosquitto_loop_start's: mosquitto_loop_forever
// returns (ending its thread for good) on a TLS or protocol error, so a device whose handshake
// failed once (broker restarting, CRL being replaced) would never retry (mqtt_network.cc).
#include "vqi/transport/mqtt_client.h"

#include <mosquitto.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "mqtt_impl.h"
#include "vqi/base/file.h"
#include "vqi/transport/topics.h"

namespace vqi::transport {

using internal::MosqStatus;

namespace internal {

Status MosqStatus(int rc, const std::string& what) {
  std::string msg = what + ": " + mosquitto_strerror(rc);
  if (rc == MOSQ_ERR_ERRNO) msg += std::string(" (") + std::strerror(errno) + ")";
  switch (rc) {
    case MOSQ_ERR_INVAL:
    case MOSQ_ERR_MALFORMED_UTF8:
      return InvalidArgument(msg);
    case MOSQ_ERR_NOMEM:
    case MOSQ_ERR_PAYLOAD_SIZE:
    case MOSQ_ERR_OVERSIZE_PACKET:
      return ResourceExhausted(msg);
    case MOSQ_ERR_CONN_REFUSED:
    case MOSQ_ERR_AUTH:
    case MOSQ_ERR_ACL_DENIED:
      return PermissionDenied(msg);
    case MOSQ_ERR_NOT_SUPPORTED:
      return Unimplemented(msg);
    default:
      return Unavailable(msg);
  }
}

}  // namespace internal

namespace {

void LibInit() {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
}

Status CheckOptions(const MqttOptions& o) {
  VQI_RETURN_IF_ERROR(topics::CheckThingName(o.client_id, "client_id"));
  if (o.host.empty()) return InvalidArgument("host is empty");
  if (o.port < 1 || o.port > 65535) return InvalidArgument("port is out of range 1..65535");
  for (auto [field, path] : {std::pair{"ca_file", &o.ca_file}, std::pair{"cert_file", &o.cert_file},
                             std::pair{"key_file", &o.key_file}}) {
    if (path->empty()) return InvalidArgument(std::string(field) + " is empty (mutual TLS only)");
    if (!FileExists(*path)) return NotFound(std::string(field) + " " + *path + " does not exist");
  }
  if (o.keepalive_seconds < 5 || o.keepalive_seconds > 65535)
    return InvalidArgument("keepalive_seconds is out of range 5..65535");
  if (o.reconnect_min_ms < 10 || o.reconnect_max_ms < o.reconnect_min_ms ||
      o.reconnect_max_ms > 3600000)
    return InvalidArgument("reconnect_min_ms/reconnect_max_ms: need 10 <= min <= max <= 3600000");
  if (o.connect_timeout_ms < 100 || o.connect_timeout_ms > 300000)
    return InvalidArgument("connect_timeout_ms is out of range 100..300000");
  if (o.max_inflight < 1 || o.max_inflight > 65535)
    return InvalidArgument("max_inflight is out of range 1..65535");
  if (o.max_queued < 1 || o.max_queued > 1000000)
    return InvalidArgument("max_queued is out of range 1..1000000");
  if (o.max_payload_bytes < 1 || o.max_payload_bytes > (256u << 20))
    return InvalidArgument("max_payload_bytes is out of range 1..268435456");
  return Status::Ok();
}

}  // namespace

const char* ConnectionStateName(ConnectionState state) {
  switch (state) {
    case ConnectionState::kConnecting:
      return "connecting";
    case ConnectionState::kConnected:
      return "connected";
    case ConnectionState::kReconnecting:
      return "reconnecting";
    case ConnectionState::kStopped:
      return "stopped";
  }
  return "?";
}

Status MqttClient::Impl::Init() {
  LibInit();
  mosq_ = mosquitto_new(o_.client_id.c_str(), o_.clean_session, this);
  if (!mosq_)
    return ResourceExhausted("mosquitto_new failed: " + std::string(std::strerror(errno)));
  int rc = mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
  if (rc == MOSQ_ERR_SUCCESS)
    rc = mosquitto_tls_set(mosq_, o_.ca_file.c_str(), nullptr, o_.cert_file.c_str(),
                           o_.key_file.c_str(), nullptr);
  if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_tls_opts_set(mosq_, 1, nullptr, nullptr);
  if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_max_inflight_messages_set(mosq_, o_.max_inflight);
  if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_threaded_set(mosq_, true);
  if (rc != MOSQ_ERR_SUCCESS) return MosqStatus(rc, "configure MQTT client " + o_.client_id);
  mosquitto_connect_callback_set(
      mosq_, [](mosquitto*, void* self, int rc) { static_cast<Impl*>(self)->OnConnect(rc); });
  mosquitto_publish_callback_set(
      mosq_, [](mosquitto*, void* self, int mid) { static_cast<Impl*>(self)->OnPublish(mid); });
  mosquitto_subscribe_callback_set(mosq_,
                                   [](mosquitto*, void* self, int mid, int n, const int* granted) {
                                     static_cast<Impl*>(self)->OnSubscribe(mid, n, granted);
                                   });
  mosquitto_message_callback_set(mosq_, [](mosquitto*, void* self, const mosquitto_message* m) {
    static_cast<Impl*>(self)->OnMessageIn(m);
  });
  mosquitto_log_callback_set(mosq_, [](mosquitto*, void* self, int level, const char* text) {
    if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING)) static_cast<Impl*>(self)->OnLog(text);
  });
  return Status::Ok();
}

Status MqttClient::Impl::Connect() {
  std::lock_guard lock(mu_);
  if (started_) return FailedPrecondition("MQTT client " + o_.client_id + " already started");
  started_ = true;
  state_ = ConnectionState::kConnecting;
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

Status MqttClient::Impl::WaitConnected(int timeout_ms) {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                    [&] { return state_ == ConnectionState::kConnected; }))
    return DeadlineExceeded("MQTT client " + o_.client_id + " not connected to " + o_.host + ":" +
                            std::to_string(o_.port) + " after " + std::to_string(timeout_ms) +
                            " ms" + (last_error_.ok() ? "" : ": " + last_error_.message()));
  return Status::Ok();
}

Status MqttClient::Impl::Publish(const std::string& topic, std::string_view payload, int qos,
                                 bool retain, AckHandler on_acked) {
  if (topic.empty() || topic.find_first_of("+#") != std::string::npos ||
      topic.find('\0') != std::string::npos)
    return InvalidArgument("publish topic \"" + topic.substr(0, 200) +
                           "\" is empty or has wildcards");
  if (qos != 0 && qos != 1) return InvalidArgument("qos must be 0 or 1");
  if (on_acked && qos != 1) return InvalidArgument("an acknowledgement needs qos 1");
  if (payload.size() > o_.max_payload_bytes)
    return ResourceExhausted("payload of " + std::to_string(payload.size()) +
                             " bytes is larger than max_payload_bytes " +
                             std::to_string(o_.max_payload_bytes) + " (docs/limits.md)");
  std::lock_guard lock(mu_);
  if (stopping_) return FailedPrecondition("MQTT client " + o_.client_id + " is disconnecting");
  if (queue_.size() + inflight_.size() >= o_.max_queued)
    return ResourceExhausted("MQTT client " + o_.client_id + ": " + std::to_string(o_.max_queued) +
                             " messages already wait for the broker (max_queued, "
                             "docs/limits.md); publish refused, nothing dropped");
  if (state_ == ConnectionState::kConnected) {
    Status s = SendLocked(topic, payload, qos, retain, on_acked);
    if (s.code() != StatusCode::kUnavailable) return s;
  }
  queue_.push_back({topic, std::string(payload), qos, retain, std::move(on_acked)});
  return Status::Ok();
}

Status MqttClient::Impl::Subscribe(const std::string& filter, int qos, int timeout_ms) {
  if (filter.empty() || filter.size() > 65535)
    return InvalidArgument("subscription filter is empty or too long");
  if (qos != 0 && qos != 1) return InvalidArgument("qos must be 0 or 1");
  std::unique_lock lock(mu_);
  subs_[filter] = qos;
  if (state_ != ConnectionState::kConnected) return Status::Ok();
  int mid = 0;
  int rc = mosquitto_subscribe(mosq_, &mid, filter.c_str(), qos);
  if (rc == MOSQ_ERR_NO_CONN) return Status::Ok();  // sent again on the next CONNACK
  if (rc != MOSQ_ERR_SUCCESS) {
    subs_.erase(filter);
    return MosqStatus(rc, "subscribe " + filter);
  }
  sub_wait_[mid] = -1;
  bool done = cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                           [&] { return sub_wait_[mid] != -1; });
  int granted = sub_wait_[mid];
  sub_wait_.erase(mid);
  if (!done)
    return DeadlineExceeded("no SUBACK for " + filter + " within " + std::to_string(timeout_ms) +
                            " ms");
  if (granted == 0x80) {
    subs_.erase(filter);
    return PermissionDenied("the broker refused the subscription to " + filter + " for client " +
                            o_.client_id + " (return code 0x80)");
  }
  return Status::Ok();
}

Status MqttClient::Impl::Disconnect(int timeout_ms) {
  size_t left = 0;
  {
    std::unique_lock lock(mu_);
    if (!started_ || stopping_) return Status::Ok();
    cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                 [&] { return queue_.empty() && inflight_.empty(); });
    left = queue_.size() + inflight_.size();
    stopping_ = true;
  }
  mosquitto_disconnect(mosq_);
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  SetState(ConnectionState::kStopped, Status::Ok());
  if (left > 0)
    return DeadlineExceeded(std::to_string(left) + " message(s) of MQTT client " + o_.client_id +
                            " were not acknowledged within " + std::to_string(timeout_ms) + " ms");
  return Status::Ok();
}

ConnectionState MqttClient::Impl::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

MqttStats MqttClient::Impl::Stats() const {
  std::lock_guard lock(mu_);
  MqttStats s = stats_;
  s.queued = queue_.size() + inflight_.size();
  return s;
}

Status MqttClient::Impl::SendLocked(const std::string& topic, std::string_view payload, int qos,
                                    bool retain, const AckHandler& on_acked) {
  int mid = 0;
  int rc = mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(payload.size()),
                             payload.data(), qos, retain);
  if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST) return Unavailable("offline");
  if (rc != MOSQ_ERR_SUCCESS) return MosqStatus(rc, "publish " + topic);
  if (qos > 0) {
    inflight_.insert(mid);
    if (on_acked) acks_[mid] = on_acked;
  } else {
    ++stats_.published;
  }
  return Status::Ok();
}

Result<std::unique_ptr<MqttClient>> MqttClient::Create(const MqttOptions& options) {
  VQI_RETURN_IF_ERROR(CheckOptions(options));
  auto impl = std::make_unique<Impl>(options);
  impl->delay_ms_ = options.reconnect_min_ms;
  VQI_RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<MqttClient>(new MqttClient(std::move(impl)));
}

MqttClient::MqttClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MqttClient::~MqttClient() { (void)impl_->Disconnect(0); }
void MqttClient::OnMessage(MessageHandler handler) { impl_->on_message_ = std::move(handler); }
void MqttClient::OnState(StateHandler handler) { impl_->on_state_ = std::move(handler); }
Status MqttClient::Connect() { return impl_->Connect(); }
Status MqttClient::WaitConnected(int timeout_ms) { return impl_->WaitConnected(timeout_ms); }
Status MqttClient::Publish(const std::string& topic, std::string_view payload, int qos, bool retain,
                           AckHandler on_acked) {
  return impl_->Publish(topic, payload, qos, retain, std::move(on_acked));
}
Status MqttClient::Publish(const std::string& topic, std::string_view payload, int qos,
                           bool retain) {
  return impl_->Publish(topic, payload, qos, retain);
}
Status MqttClient::Subscribe(const std::string& filter, int qos, int timeout_ms) {
  return impl_->Subscribe(filter, qos, timeout_ms);
}
Status MqttClient::Disconnect(int timeout_ms) { return impl_->Disconnect(timeout_ms); }
ConnectionState MqttClient::state() const { return impl_->state(); }
MqttStats MqttClient::Stats() const { return impl_->Stats(); }

}  // namespace vqi::transport
