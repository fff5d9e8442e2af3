// Small encodings shared by key files, manifests and the component store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "vqi/base/status.h"

namespace vqi::signing {

// Lowercase hex of bytes.
std::string ToHex(std::string_view bytes);
// The bytes of `hex`: InvalidArgument naming `what` unless it is exactly 2*expected_bytes hex
// digits.
Result<std::string> FromHex(std::string_view hex, size_t expected_bytes, const std::string& what);

// UTC RFC 3339 with seconds ("2026-12-06T06:30:00Z") of milliseconds since the epoch.
std::string FormatRfc3339(int64_t ms_since_epoch);

}  // namespace vqi::signing
