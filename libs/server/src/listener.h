// httplib's Server or SSLServer with the two controls graceful shutdown needs, which httplib
// 0.11 lacks: stop accepting while requests in flight continue, and cut them later.
#pragma once

#include <httplib.h>
#include <sys/socket.h>

namespace vqi::server {

class ListenerControl {
 public:
  virtual ~ListenerControl() = default;
  // Shuts the listening socket down: accept() fails, httplib's listen loop closes the socket
  // and joins its worker pool, which finishes the connections it holds.
  virtual void StopAccepting() = 0;
  // Makes httplib see itself as stopped: content being written stops after the current piece
  // and keep-alive connections end after their current request.
  virtual void AbortInFlight() = 0;
};

template <class Base>
class Listener : public Base, public ListenerControl {
 public:
  using Base::Base;
  void StopAccepting() override {
    const socket_t s = this->svr_sock_;
    if (s != INVALID_SOCKET) ::shutdown(s, SHUT_RDWR);
  }
  void AbortInFlight() override { this->svr_sock_ = INVALID_SOCKET; }
};

}  // namespace vqi::server
