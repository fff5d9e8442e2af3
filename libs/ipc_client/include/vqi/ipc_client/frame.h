// The agent IPC wire format (docs/design/ipc.md "Wire protocol"): each frame is a 4-byte
// big-endian length N (1..kMaxFrameBytes) followed by N bytes of UTF-8 JSON (one object).
// Shared by the component client (this library) and the agent's server (libs/agent ipc*).
//
// Thread-compatible: FrameReader is a value owned by one connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "vqi/base/json.h"
#include "vqi/base/status.h"

namespace vqi::ipc {

inline constexpr size_t kMaxFrameBytes = 1u << 20;     // one frame's JSON, docs/limits.md
inline constexpr size_t kMaxUploadBytes = 256u << 10;  // one uploaded file (base64 in a frame)

// The frame bytes of `message` (its compact JSON dump). InvalidArgument when it would be
// larger than `max_bytes`.
Result<std::string> EncodeFrame(const Json& message, size_t max_bytes = kMaxFrameBytes);

// Splits a byte stream into frames. After an error the stream is unusable (the peer must be
// disconnected: frame boundaries are lost).
class FrameReader {
 public:
  explicit FrameReader(size_t max_bytes = kMaxFrameBytes) : max_(max_bytes) {}
  // Adds received bytes. InvalidArgument for a length of 0 or above the maximum (naming both),
  // before the body is buffered.
  Status Feed(std::string_view bytes);
  // The next complete frame parsed (InvalidArgument: not JSON / not an object), or nullopt
  // when more bytes are needed.
  std::optional<Result<Json>> Next();
  size_t buffered() const { return buf_.size(); }

 private:
  const size_t max_;
  std::string buf_;
};

// Blocking helpers for a connected stream socket (the client's side).
Status WriteFrame(int fd, const Json& message);
// Waits up to timeout_ms (-1: forever; 0: only bytes already received) for one frame.
// Unavailable when the peer closed, DeadlineExceeded at the timeout.
Result<Json> ReadFrame(int fd, FrameReader& reader, int timeout_ms);

// Standard base64 (RFC 4648, with padding), for uploaded files.
std::string Base64Encode(std::string_view bytes);
// InvalidArgument for characters outside the alphabet or a bad length.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace vqi::ipc
