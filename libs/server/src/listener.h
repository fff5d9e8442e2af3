// httplib's Server or SSLServer with what graceful shutdown and our connection limits need
// (httplib 0.11 lacks them): stop accepting while requests in flight continue, cut them later,
// and serve each connection with our own loop (connection.h).
#pragma once

#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <type_traits>

#include "connection.h"

namespace vqi::server {

class ListenerControl {
 public:
  virtual ~ListenerControl() = default;
  // Shuts the listening socket down: accept() fails, httplib's listen loop closes the socket
  // and joins its worker pool, which finishes the connections it holds; idle keep-alive
  // connections end at once.
  virtual void StopAccepting() = 0;
  // Makes httplib see itself as stopped: content being written stops after the current piece
  // and keep-alive connections end after their current request.
  virtual void AbortInFlight() = 0;
};

inline constexpr int kReadTimeoutSeconds = 5;
inline constexpr int kWriteTimeoutSeconds = 30;
inline constexpr int kKeepAliveSeconds = 5;
inline constexpr size_t kKeepAliveRequests = 100;

template <class Base>
class Listener : public Base, public ListenerControl {
 public:
  using Base::Base;
  void StopAccepting() override {
    stopping_ = true;
    const socket_t s = this->svr_sock_;
    if (s != INVALID_SOCKET) ::shutdown(s, SHUT_RDWR);
  }
  void AbortInFlight() override { this->svr_sock_ = INVALID_SOCKET; }

 private:
  // Overrides httplib's (private virtual) per-connection entry point.
  bool process_and_close_socket(socket_t sock) override {
    // Headers and body go out in separate writes: without TCP_NODELAY, Nagle holds the second
    // until the client's delayed ACK (~40 ms per small response).
    int one = 1;
    ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    SSL* ssl = nullptr;
    if constexpr (std::is_base_of_v<httplib::SSLServer, Base>) {
      ssl = SSL_new(this->ssl_context());
      if (!ssl || SSL_set_fd(ssl, sock) != 1 || SSL_accept(ssl) != 1) {  // handshake failed
        if (ssl) SSL_free(ssl);
        ::shutdown(sock, SHUT_RDWR);
        ::close(sock);
        return false;
      }
    }
    ConnectionStream strm(sock, ssl, kReadTimeoutSeconds, kWriteTimeoutSeconds);
    return ServeConnection(strm, kKeepAliveRequests, kKeepAliveSeconds, stopping_,
                           [this](httplib::Stream& s, bool close, bool& closed) {
                             return this->process_request(s, close, closed, nullptr);
                           });
  }

  std::atomic<bool> stopping_{false};
};

}  // namespace vqi::server
