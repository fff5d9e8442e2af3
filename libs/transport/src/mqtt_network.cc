// MqttClient: what runs on the network thread — libmosquitto's loop, reconnects with backoff,
// and libmosquitto's callbacks (CONNACK, PUBACK, SUBACK, messages, log lines).
#include <mosquitto.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "mqtt_impl.h"
#include "vqi/base/log.h"

namespace vqi::transport {

using internal::MosqStatus;

void MqttClient::Impl::SetState(ConnectionState s, const Status& error) {
  StateHandler handler;
  {
    std::lock_guard lock(mu_);
    if (state_ == s && error.ok()) return;
    state_ = s;
    if (!error.ok()) last_error_ = error;
    handler = on_state_;
  }
  cv_.notify_all();
  if (handler) handler(s, error);
}

void MqttClient::Impl::Run() {
  bool first = true;
  bool open = false;
  auto attempt_start = std::chrono::steady_clock::now();
  while (!stopping_) {
    if (!open) {
      log_error_.clear();
      connack_ = false;
      attempt_start = std::chrono::steady_clock::now();
      int rc = first
                   ? mosquitto_connect_async(mosq_, o_.host.c_str(), o_.port, o_.keepalive_seconds)
                   : mosquitto_reconnect_async(mosq_);
      first = false;
      if (rc != MOSQ_ERR_SUCCESS) {
        Failed(MosqStatus(rc, "connect to " + o_.host + ":" + std::to_string(o_.port)));
        continue;
      }
      open = true;
    }
    int rc = mosquitto_loop(mosq_, 100, 1);
    if (rc != MOSQ_ERR_SUCCESS) {
      open = false;
      if (stopping_) break;
      Failed(MosqStatus(rc, "connection to " + o_.host + ":" + std::to_string(o_.port)));
    } else if (int err = connack_ ? 0 : PendingSocketError(); err != 0) {
      open = false;  // e.g. ECONNREFUSED: fail fast instead of waiting for the timeout
      Failed(Unavailable("connect to " + o_.host + ":" + std::to_string(o_.port) + ": " +
                         std::strerror(err)));
    } else if (!connack_ && std::chrono::steady_clock::now() - attempt_start >
                                std::chrono::milliseconds(o_.connect_timeout_ms)) {
      // libmosquitto 2.0.11 keeps a refused asynchronous TLS connect "pending" for ever
      // (SSL_ERROR_SYSCALL is taken as "try again"): give up on the attempt ourselves.
      // The next mosquitto_reconnect_async closes the old socket.
      open = false;
      Failed(DeadlineExceeded("no CONNACK from " + o_.host + ":" + std::to_string(o_.port) +
                              " within " + std::to_string(o_.connect_timeout_ms) +
                              " ms (broker down or unreachable?)"));
    }
  }
}

// Non-zero (an errno) when the socket being connected has failed: the TCP connect is over
// (poll says writable or hung up) but the socket has no peer. libmosquitto may already have
// consumed SO_ERROR, hence ECONNREFUSED as the likely cause when it has.
int MqttClient::Impl::PendingSocketError() {
  const int fd = mosquitto_socket(mosq_);
  if (fd < 0) return 0;
  pollfd p{fd, POLLOUT, 0};
  if (::poll(&p, 1, 0) != 1 || !(p.revents & (POLLOUT | POLLERR | POLLHUP))) return 0;
  sockaddr_storage peer{};
  socklen_t len = sizeof peer;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) == 0) return 0;
  if (errno != ENOTCONN) return 0;
  int err = 0;
  len = sizeof err;
  ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
  return err != 0 ? err : ECONNREFUSED;
}

// Reports the failure and sleeps the backoff (interrupted by Disconnect).
void MqttClient::Impl::Failed(Status why) {
  if (!log_error_.empty()) why = Status(why.code(), why.message() + "; " + log_error_);
  VQI_LOG_DEBUG("mqtt {}: {}", o_.client_id, why.ToString());
  SetState(ConnectionState::kReconnecting, why);
  std::unique_lock lock(mu_);
  const int base = std::min(delay_ms_, o_.reconnect_max_ms);
  std::uniform_int_distribution<int> jitter(base * 4 / 5, base);
  cv_.wait_for(lock, std::chrono::milliseconds(jitter(rng_)), [&] { return stopping_.load(); });
  delay_ms_ = std::min(delay_ms_ * 2, o_.reconnect_max_ms);
}

void MqttClient::Impl::OnConnect(int rc) {
  if (rc != 0) {
    log_error_ = std::string("broker refused the connection: ") + mosquitto_connack_string(rc);
    return;  // libmosquitto then drops the connection; Run() backs off
  }
  connack_ = true;
  {
    std::lock_guard lock(mu_);
    delay_ms_ = o_.reconnect_min_ms;
    ++stats_.connects;
    for (const auto& [filter, qos] : subs_) {
      int rc2 = mosquitto_subscribe(mosq_, nullptr, filter.c_str(), qos);
      if (rc2 != MOSQ_ERR_SUCCESS)
        VQI_LOG_WARN("mqtt {}: resubscribe {}: {}", o_.client_id, filter, mosquitto_strerror(rc2));
    }
    while (!queue_.empty()) {
      const Pending& p = queue_.front();
      Status s = SendLocked(p.topic, p.payload, p.qos, p.retain, p.on_acked);
      if (s.code() == StatusCode::kUnavailable) break;
      if (!s.ok()) VQI_LOG_ERROR("mqtt {}: queued message refused: {}", o_.client_id, s.ToString());
      queue_.pop_front();
    }
  }
  SetState(ConnectionState::kConnected, Status::Ok());
}

void MqttClient::Impl::OnPublish(int mid) {
  AckHandler done;
  {
    std::lock_guard lock(mu_);
    if (inflight_.erase(mid) > 0) ++stats_.published;
    auto it = acks_.find(mid);
    if (it != acks_.end()) {
      done = std::move(it->second);
      acks_.erase(it);
    }
  }
  cv_.notify_all();
  if (done) done();  // outside the lock: it may Publish
}

void MqttClient::Impl::OnSubscribe(int mid, int n, const int* granted) {
  {
    std::lock_guard lock(mu_);
    int g = n > 0 ? granted[0] : 0x80;
    auto it = sub_wait_.find(mid);
    if (it != sub_wait_.end()) {
      it->second = g;
    } else if (g == 0x80) {
      VQI_LOG_WARN("mqtt {}: the broker refused a subscription on reconnect (0x80)", o_.client_id);
    }
  }
  cv_.notify_all();
}

void MqttClient::Impl::OnMessageIn(const mosquitto_message* m) {
  const size_t size = m->payloadlen > 0 ? static_cast<size_t>(m->payloadlen) : 0;
  if (size > o_.max_payload_bytes) {
    {
      std::lock_guard lock(mu_);
      ++stats_.dropped_oversized;
    }
    VQI_LOG_WARN("mqtt {}: dropped a {}-byte message on {} (max_payload_bytes {})", o_.client_id,
                 size, m->topic ? m->topic : "?", o_.max_payload_bytes);
    return;
  }
  MqttMessage msg{m->topic ? m->topic : "", std::string(static_cast<const char*>(m->payload), size),
                  m->qos, m->retain};
  Status s = on_message_ ? on_message_(msg) : Status::Ok();
  std::lock_guard lock(mu_);
  if (s.ok()) {
    ++stats_.received;
  } else {
    ++stats_.rejected;
    VQI_LOG_WARN("mqtt {}: message on {} ignored: {}", o_.client_id, msg.topic, s.ToString());
  }
}

}  // namespace vqi::transport
