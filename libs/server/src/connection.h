// One client connection served by our own keep-alive loop instead of httplib's, for two
// guarantees httplib 0.11 lacks (docs/design/server.md):
//   - a request line plus headers larger than kMaxHeaderBytes ends the connection (httplib's
//     line reader would grow without bound on a line with no newline);
//   - a request refused before its body was read ends the connection after the response
//     (httplib would parse the unread body as further requests).
// It also ends idle keep-alive connections as soon as the server is shutting down.
//
// The stream is plain TCP or TLS (OpenSSL on the SSLServer's context). Thread-compatible: one
// connection is served by one worker thread.
#pragma once

#include <httplib.h>
#include <openssl/ssl.h>

#include <atomic>
#include <cstddef>
#include <string>

namespace vqi::server {

inline constexpr size_t kMaxHeaderBytes = 64 * 1024;

// Zero-copy file transfer on plain HTTP. httplib writes a response body only through
// DataSink::write(pointer, length); to send file bytes with sendfile(2) instead of copying them
// through user space, a content provider sets a file window on the connection and writes a
// range of SendfileWindow() — a static region never read — and ConnectionStream::write sends
// the matching bytes of the file. httplib's own accounting (offsets, Content-Length) is
// unchanged.
inline constexpr size_t kSendfileWindowBytes = 4 << 20;
const char* SendfileWindow();

class ConnectionStream : public httplib::Stream {
 public:
  // `ssl` (owned, may be null) is an accepted TLS session on `fd`.
  ConnectionStream(int fd, SSL* ssl, int read_timeout_s, int write_timeout_s);
  ~ConnectionStream() override;

  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return fd_; }

  // A new request starts: its line and headers may take kMaxHeaderBytes.
  void StartHeaders() {
    in_headers_ = true;
    header_bytes_ = 0;
  }
  // The headers were parsed (pre-routing ran): the body is bounded by its Content-Length.
  void StartBody() { in_headers_ = false; }
  bool header_limit_hit() const { return header_limit_hit_; }
  bool tls() const { return ssl_ != nullptr; }
  // While set, writes from SendfileWindow() + k send byte `offset + k` of `file_fd`.
  void SetFileWindow(int file_fd, uint64_t offset) {
    window_fd_ = file_fd;
    window_offset_ = offset;
  }
  void ClearFileWindow() { window_fd_ = -1; }
  // Whether a byte can be read within `timeout_ms` (buffered bytes count).
  bool WaitReadable(int timeout_ms) const;

 private:
  ssize_t RawRead(char* ptr, size_t size);
  bool Poll(short events, int timeout_ms) const;

  int fd_;
  SSL* ssl_;
  int read_timeout_ms_, write_timeout_ms_;
  char buf_[4096];
  size_t buf_off_ = 0, buf_len_ = 0;
  bool in_headers_ = true;
  size_t header_bytes_ = 0;
  bool header_limit_hit_ = false;
  int window_fd_ = -1;
  uint64_t window_offset_ = 0;
};

// The connection being served on this thread (null outside ServeConnection), so the
// pre-routing handler can mark the end of the headers and ask for the connection to close.
ConnectionStream*& CurrentConnection();
bool& CloseAfterResponse();

// Serves requests on an accepted socket until the client closes, a limit is hit, the keep-
// alive count or timeout runs out, or `stopping` turns true while the connection is idle.
// `process` is httplib's Server::process_request. Closes the socket.
template <class Process>
bool ServeConnection(ConnectionStream& strm, size_t keep_alive_max, int keep_alive_timeout_s,
                     const std::atomic<bool>& stopping, Process&& process) {
  bool ret = false;
  CurrentConnection() = &strm;
  for (size_t count = keep_alive_max; count > 0; --count) {
    // Wait for the next request in short slices, so a shutdown ends idle connections at once.
    bool readable = false;
    for (int waited = 0; waited < keep_alive_timeout_s * 1000 && !stopping; waited += 100)
      if ((readable = strm.WaitReadable(100))) break;
    if (!readable) break;
    strm.StartHeaders();
    CloseAfterResponse() = false;
    bool connection_closed = false;
    ret = process(strm, count == 1, connection_closed);
    if (!ret || connection_closed || CloseAfterResponse() || strm.header_limit_hit()) break;
  }
  CurrentConnection() = nullptr;
  return ret;
}

}  // namespace vqi::server
