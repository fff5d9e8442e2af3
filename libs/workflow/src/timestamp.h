// ISO-8601 extended offset date-times ("2016-03-14T01:59:00Z", "...T01:59:00.123+02:00").
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace vqi::workflow {

// Milliseconds since the epoch, or nullopt when `s` is not a valid date-time with an offset.
std::optional<int64_t> ParseTimestampMs(const std::string& s);
// Same, with full precision (nanoseconds) for comparisons.
std::optional<__int128> ParseTimestampNs(const std::string& s);

}  // namespace vqi::workflow
