// A results message from a device (docs/design/results.md): the topic
// vqi/v1/results/<thing>/<component> and a vqi.inspect.result/1 payload (docs/design/inspect.md),
// parsed defensively into the fields the server keeps. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "vqi/base/status.h"

namespace vqi::results {

inline constexpr std::string_view kResultSchema = "vqi.inspect.result/1";
inline constexpr size_t kDefaultMaxResultBytes = 64 * 1024;

struct ParsedResult {
  std::string id;         // <thing>:<64 hex>
  std::string thing;      // the topic's thing (= the payload's)
  std::string component;  // the topic's component (= the payload's)
  std::string verdict;    // pass | fail | error
  bool uncertain = false;
  std::string timestamp;  // the device's (RFC 3339), as sent
  std::string model_name, model_version;
  std::string image_name;
  double total_ms = -1;  // timings_ms.total; -1 when absent
  double model_ms = -1;  // timings_ms.model; -1 when absent
  std::string payload;   // the message as received
};

// The topic's thing when `topic` is a results topic, else "" (for counting refusals).
std::string ThingOfTopic(std::string_view topic);

// InvalidArgument naming the topic and the field (and both values when the payload names
// another thing or component) for anything that is not a valid result from that thing;
// ResourceExhausted when the payload is larger than `max_bytes` (checked before parsing).
Result<ParsedResult> ParseResultMessage(std::string_view topic, std::string_view payload,
                                        size_t max_bytes = kDefaultMaxResultBytes);

}  // namespace vqi::results
