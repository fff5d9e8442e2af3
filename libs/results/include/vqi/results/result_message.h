// A results message from a device (docs/design/results.md): the topic
// vqi/v1/results/<thing>/<component> and a vqi.inspect.result/1 payload (docs/design/inspect.md),
// parsed defensively into the fields the server keeps. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "vqi/base/json.h"
#include "vqi/base/status.h"

namespace vqi::results {

inline constexpr std::string_view kResultSchema = "vqi.inspect.result/1";
inline constexpr size_t kDefaultMaxResultBytes = 64 * 1024;

// A result's optional `drift` field (vqi-inspect's drift monitor, docs/design/inspect.md).
struct DriftField {
  double score = 0;  // D / D_crit of the most drifted feature (> 1 = alert)
  bool alert = false;
  std::string feature;
  int64_t window = 0;
};

struct ParsedResult {
  std::string id;         // <thing>:<64 hex>
  std::string thing;      // the topic's thing (= the payload's)
  std::string component;  // the topic's component (= the payload's)
  std::string verdict;    // pass | fail | error
  bool uncertain = false;
  std::string timestamp;  // the device's (RFC 3339), as sent
  std::string model_name, model_version;
  std::string image_name;
  double total_ms = -1;             // timings_ms.total; -1 when absent
  double model_ms = -1;             // timings_ms.model; -1 when absent
  std::optional<DriftField> drift;  // the `drift` field, when present
  std::string payload;              // the message as received
};

// A drift alert message (vqi.inspect.drift/1, drift_message.h parses it).
inline constexpr std::string_view kDriftSchema = "vqi.inspect.drift/1";
inline constexpr size_t kMaxDriftMessageBytes = 16 * 1024;

struct ParsedDrift {
  std::string id;  // "<thing>:<image sha256>:drift"
  std::string thing, component;
  bool raised = false;  // state "raised" (alert true) or "cleared" (alert false)
  DriftField drift;     // score, alert, feature, window
  std::string model_name, model_version, image_name;
  std::string timestamp;  // the device's (RFC 3339)
  std::string payload;    // as received
};

// The topic's thing when `topic` is a results topic, else "" (for counting refusals).
std::string ThingOfTopic(std::string_view topic);

// A `drift` object ({score, alert, feature, window}); InvalidArgument naming `path` + the field.
Result<DriftField> ParseDriftField(const Json& j, const std::string& path);

// InvalidArgument naming the topic and the field (and both values when the payload names
// another thing or component) for anything that is not a valid result from that thing;
// ResourceExhausted when the payload is larger than `max_bytes` (checked before parsing).

Result<ParsedResult> ParseResultMessage(std::string_view topic, std::string_view payload,
                                        size_t max_bytes = kDefaultMaxResultBytes);

}  // namespace vqi::results
