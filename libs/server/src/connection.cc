#include "connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace vqi::server {

const char* SendfileWindow() {
  static const char kWindow[kSendfileWindowBytes] = {};
  return kWindow;
}

ConnectionStream*& CurrentConnection() {
  thread_local ConnectionStream* current = nullptr;
  return current;
}

bool& CloseAfterResponse() {
  thread_local bool close = false;
  return close;
}

ConnectionStream::ConnectionStream(int fd, SSL* ssl, int read_timeout_s, int write_timeout_s)
    : fd_(fd),
      ssl_(ssl),
      read_timeout_ms_(read_timeout_s * 1000),
      write_timeout_ms_(write_timeout_s * 1000) {}

ConnectionStream::~ConnectionStream() {
  if (ssl_) {
    SSL_shutdown(ssl_);
    SSL_free(ssl_);
  }
  ::shutdown(fd_, SHUT_RDWR);
  ::close(fd_);
}

bool ConnectionStream::Poll(short events, int timeout_ms) const {
  pollfd p{fd_, events, 0};
  while (true) {
    const int r = ::poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    return r > 0;
  }
}

bool ConnectionStream::WaitReadable(int timeout_ms) const {
  if (buf_off_ < buf_len_) return true;
  if (ssl_ && SSL_pending(ssl_) > 0) return true;
  return Poll(POLLIN, timeout_ms);
}

bool ConnectionStream::is_readable() const { return WaitReadable(read_timeout_ms_); }

bool ConnectionStream::is_writable() const {
  if (!Poll(POLLOUT, write_timeout_ms_)) return false;
  // the peer is still there (httplib's is_socket_alive)
  char c;
  const ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
}

ssize_t ConnectionStream::RawRead(char* ptr, size_t size) {
  if (!ssl_) {
    if (!WaitReadable(read_timeout_ms_)) return -1;
    ssize_t n;
    do n = ::recv(fd_, ptr, size, 0);
    while (n < 0 && errno == EINTR);
    return n;
  }
  while (true) {
    const int n = SSL_read(ssl_, ptr, static_cast<int>(std::min<size_t>(size, 1 << 30)));
    if (n > 0) return n;
    const int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_WANT_READ) {
      if (!Poll(POLLIN, read_timeout_ms_)) return -1;
    } else if (err == SSL_ERROR_WANT_WRITE) {
      if (!Poll(POLLOUT, write_timeout_ms_)) return -1;
    } else {
      return err == SSL_ERROR_ZERO_RETURN ? 0 : -1;
    }
  }
}

ssize_t ConnectionStream::read(char* ptr, size_t size) {
  if (in_headers_) {
    if (header_bytes_ >= kMaxHeaderBytes) {
      header_limit_hit_ = true;
      return -1;
    }
    size = std::min(size, kMaxHeaderBytes - header_bytes_);
  }
  ssize_t n;
  if (buf_off_ < buf_len_) {
    n = static_cast<ssize_t>(std::min(size, buf_len_ - buf_off_));
    std::memcpy(ptr, buf_ + buf_off_, static_cast<size_t>(n));
    buf_off_ += static_cast<size_t>(n);
  } else if (size < sizeof buf_) {  // small reads (httplib reads lines byte by byte): buffer
    const ssize_t got = RawRead(buf_, sizeof buf_);
    if (got <= 0) return got;
    buf_off_ = 0;
    buf_len_ = static_cast<size_t>(got);
    n = static_cast<ssize_t>(std::min(size, buf_len_));
    std::memcpy(ptr, buf_, static_cast<size_t>(n));
    buf_off_ = static_cast<size_t>(n);
  } else {
    n = RawRead(ptr, size);
    if (n <= 0) return n;
  }
  if (in_headers_) header_bytes_ += static_cast<size_t>(n);
  return n;
}

ssize_t ConnectionStream::write(const char* ptr, size_t size) {
  if (!Poll(POLLOUT, write_timeout_ms_)) return -1;
  const char* window = SendfileWindow();
  if (window_fd_ >= 0 && !ssl_ && ptr >= window && ptr < window + kSendfileWindowBytes) {
    off_t off = static_cast<off_t>(window_offset_) + (ptr - window);
    const size_t count = std::min(size, static_cast<size_t>(window + kSendfileWindowBytes - ptr));
    ssize_t n;
    do n = ::sendfile(fd_, window_fd_, &off, count);
    while (n < 0 && errno == EINTR);
    return n > 0 ? n : -1;  // 0: the file ended early (it shrank); never report "0 written"
  }
  if (!ssl_) {
    ssize_t n;
    do n = ::send(fd_, ptr, size, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    return n;
  }
  while (true) {
    const int n = SSL_write(ssl_, ptr, static_cast<int>(std::min<size_t>(size, 1 << 30)));
    if (n > 0) return n;
    const int err = SSL_get_error(ssl_, n);
    if (err == SSL_ERROR_WANT_WRITE) {
      if (!Poll(POLLOUT, write_timeout_ms_)) return -1;
    } else if (err == SSL_ERROR_WANT_READ) {
      if (!Poll(POLLIN, read_timeout_ms_)) return -1;
    } else {
      return -1;
    }
  }
}

namespace {
void IpAndPort(const sockaddr_storage& a, std::string& ip, int& port) {
  char host[INET6_ADDRSTRLEN] = "";
  if (a.ss_family == AF_INET) {
    const auto* s = reinterpret_cast<const sockaddr_in*>(&a);
    inet_ntop(AF_INET, &s->sin_addr, host, sizeof host);
    port = ntohs(s->sin_port);
  } else if (a.ss_family == AF_INET6) {
    const auto* s = reinterpret_cast<const sockaddr_in6*>(&a);
    inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof host);
    port = ntohs(s->sin6_port);
  }
  ip = host;
}
}  // namespace

void ConnectionStream::get_remote_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0) IpAndPort(a, ip, port);
}

void ConnectionStream::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0) IpAndPort(a, ip, port);
}

}  // namespace vqi::server
