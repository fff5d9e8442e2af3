// The HTTP Range header (RFC 9110 §14) for artifact downloads: one byte range per request.
//
//   bytes=N-M   bytes N..M inclusive (M clipped to the last byte)
//   bytes=N-    from N to the end
//   bytes=-N    the last N bytes (all of them if N >= size)
//
// A header that is not a byte range (another unit, garbage) and a request for several ranges
// (`bytes=0-1,5-6`) are ignored — the whole artifact is sent with 200, as RFC 9110 allows; a
// syntactically valid single range that selects no byte (N >= size, `bytes=-0`, an empty
// artifact) is unsatisfiable (416 with `Content-Range: bytes */size`). (In the server,
// cpp-httplib answers 416 itself before routing to a header it cannot parse as byte ranges.)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vqi::server {

struct ByteRange {
  enum class Kind { kWhole, kPartial, kUnsatisfiable };
  Kind kind = Kind::kWhole;
  uint64_t offset = 0;  // kPartial: first byte
  uint64_t length = 0;  // kPartial: bytes to send (>= 1)
};

// `header` is the Range header's value ("" when absent); `size` the artifact's size.
ByteRange ParseRange(std::string_view header, uint64_t size);

// "bytes 0-99/1000" for a partial response.
std::string ContentRange(const ByteRange& range, uint64_t size);

}  // namespace vqi::server
