// Test helpers: a raw HTTP exchange over a loopback socket (for requests httplib's client
// will not send: a huge Content-Length without the body, chunked bodies, no Content-Length).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>

namespace vqi::server::testing {

struct RawResponse {
  bool connected = false;
  std::string head;  // status line and headers
  std::string body;
  int status = 0;
  double seconds = 0;  // until the whole response was read
};

// Sends `request` as is and reads one response: the headers, then Content-Length bytes of
// body. Gives up after `timeout_ms` without data.
inline RawResponse RawExchange(int port, const std::string& request, int timeout_ms = 5000) {
  RawResponse r;
  const auto start = std::chrono::steady_clock::now();
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return r;
  }
  r.connected = true;
  for (size_t sent = 0; sent < request.size();) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string data;
  size_t want = std::string::npos;
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) break;
    char buf[65536];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    data.append(buf, static_cast<size_t>(n));
    const size_t end = data.find("\r\n\r\n");
    if (end != std::string::npos && want == std::string::npos) {
      const std::string head = data.substr(0, end);
      size_t cl = 0;
      const size_t at = head.find("Content-Length: ");
      if (at != std::string::npos) cl = std::stoul(head.substr(at + 16));
      want = end + 4 + cl;
    }
    if (want != std::string::npos && data.size() >= want) break;
  }
  ::close(fd);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const size_t end = data.find("\r\n\r\n");
  if (end == std::string::npos) return r;
  r.head = data.substr(0, end);
  r.body = data.substr(end + 4);
  if (r.head.size() > 12) r.status = std::atoi(r.head.c_str() + 9);
  return r;
}

inline int CountResponses(const std::string& data);

// Sends `request` and reads until the server closes the connection, `timeout_ms` pass without
// data, or `want_responses` (when > 0) status lines arrived: everything it answered. `closed`
// tells whether the server closed it.
inline std::string RawReadAll(int port, const std::string& request, bool* closed,
                              int timeout_ms = 3000, int want_responses = 0) {
  *closed = false;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "";
  }
  for (size_t sent = 0; sent < request.size();) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;
    sent += static_cast<size_t>(n);
  }
  std::string data;
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) break;
    char buf[65536];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      *closed = true;
      break;
    }
    data.append(buf, static_cast<size_t>(n));
    if (want_responses > 0 && CountResponses(data) >= want_responses) break;
  }
  ::close(fd);
  return data;
}

inline int CountResponses(const std::string& data) {
  int n = 0;
  for (size_t at = data.find("HTTP/1.1 "); at != std::string::npos;
       at = data.find("HTTP/1.1 ", at + 1))
    ++n;
  return n;
}

}  // namespace vqi::server::testing
