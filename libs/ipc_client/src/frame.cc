// The IPC frame codec (vqi/ipc_client/frame.h).
#include "vqi/ipc_client/frame.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace vqi::ipc {
namespace {

uint32_t ReadBe32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (uint32_t{u[0]} << 24) | (uint32_t{u[1]} << 16) | (uint32_t{u[2]} << 8) | uint32_t{u[3]};
}

}  // namespace

Result<std::string> EncodeFrame(const Json& message, size_t max_bytes) {
  std::string body;
  try {
    body = message.dump(-1, ' ', false, Json::error_handler_t::replace);
  } catch (const std::exception& e) {
    return InvalidArgument(std::string("IPC message cannot be encoded: ") + e.what());
  }
  if (body.size() > max_bytes)
    return InvalidArgument("IPC message of " + std::to_string(body.size()) +
                           " bytes is larger than the frame limit of " + std::to_string(max_bytes) +
                           " bytes (docs/limits.md)");
  std::string out(4, '\0');
  const auto n = static_cast<uint32_t>(body.size());
  out[0] = static_cast<char>(n >> 24);
  out[1] = static_cast<char>(n >> 16);
  out[2] = static_cast<char>(n >> 8);
  out[3] = static_cast<char>(n);
  return out + body;
}

Status FrameReader::Feed(std::string_view bytes) {
  buf_.append(bytes);
  if (buf_.size() >= 4) {
    const uint32_t n = ReadBe32(buf_.data());
    if (n == 0 || n > max_)
      return InvalidArgument("IPC frame length " + std::to_string(n) + " is outside 1.." +
                             std::to_string(max_) + " bytes");
  }
  return Status::Ok();
}

std::optional<Result<Json>> FrameReader::Next() {
  if (buf_.size() < 4) return std::nullopt;
  const uint32_t n = ReadBe32(buf_.data());
  if (n == 0 || n > max_)
    return Result<Json>(InvalidArgument("IPC frame length " + std::to_string(n) +
                                        " is outside 1.." + std::to_string(max_) + " bytes"));
  if (buf_.size() < 4 + size_t{n}) return std::nullopt;
  auto parsed = ParseJson(std::string_view(buf_).substr(4, n), "IPC frame");
  buf_.erase(0, 4 + size_t{n});
  // Frames after this one stay buffered: the caller checks `buffered()` and Feed's limit again.
  if (parsed.ok() && buf_.size() >= 4) {
    const uint32_t next = ReadBe32(buf_.data());
    if (next == 0 || next > max_)
      return Result<Json>(InvalidArgument("IPC frame length " + std::to_string(next) +
                                          " is outside 1.." + std::to_string(max_) + " bytes"));
  }
  if (!parsed.ok()) return Result<Json>(parsed.status());
  if (!parsed->is_object()) return Result<Json>(InvalidArgument("IPC frame is not a JSON object"));
  return Result<Json>(std::move(*parsed));
}

Status WriteFrame(int fd, const Json& message) {
  VQI_ASSIGN_OR_RETURN(std::string bytes, EncodeFrame(message));
  std::string_view rest(bytes);
  while (!rest.empty()) {
    ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      ::poll(&p, 1, 1000);
      continue;
    }
    if (n <= 0) return Unavailable(std::string("IPC write: ") + std::strerror(errno));
    rest.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Result<Json> ReadFrame(int fd, FrameReader& reader, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    if (auto frame = reader.Next()) return std::move(*frame);
    int wait = -1;
    if (timeout_ms >= 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      // timeout 0 still polls once: it takes what has already arrived (events between images).
      if (left.count() < 0 || (left.count() == 0 && timeout_ms > 0))
        return DeadlineExceeded("no IPC frame within the timeout");
      wait = static_cast<int>(left.count());
    }
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, wait);
    if (rc < 0 && errno == EINTR) continue;
    if (rc == 0) return DeadlineExceeded("no IPC frame within the timeout");
    char buf[16384];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Unavailable("the agent closed the IPC connection");
    VQI_RETURN_IF_ERROR(reader.Feed(std::string_view(buf, static_cast<size_t>(n))));
  }
}

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}

std::string Base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v =
        (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kB64[(v >> s) & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    if (i + 1 < in.size()) v |= uint32_t(uint8_t(in[i + 1])) << 8;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < in.size() ? kB64[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view in) {
  if (in.size() % 4 != 0) return InvalidArgument("base64 text length is not a multiple of 4");
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    uint32_t v = 0;
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = in[i + k];
      const char* p = c ? std::strchr(kB64, c) : nullptr;
      if (c == '=' && i + 4 == in.size() && k >= 2) {
        ++pad;
        v <<= 6;
        continue;
      }
      if (!p || pad)
        return InvalidArgument("base64 text has a bad character at " + std::to_string(i + k));
      v = (v << 6) | static_cast<uint32_t>(p - kB64);
    }
    out += static_cast<char>(v >> 16);
    if (pad < 2) out += static_cast<char>((v >> 8) & 255);
    if (pad < 1) out += static_cast<char>(v & 255);
  }
  return out;
}

}  // namespace vqi::ipc
