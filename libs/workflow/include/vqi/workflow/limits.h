// Every limit the workflow engine enforces, in one place (docs/limits.md, "Workflows").
// Where AWS Step Functions publishes a quota, the value and the error name are AWS's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "vqi/base/json.h"

namespace vqi::workflow {

// Payload size (UTF-8 JSON text) of an execution input, a state's input/output, a task's
// result, a Map item, a callback's output, a state's Assign: AWS's 256 KiB.
// Exceeded inside an execution: States.DataLimitExceeded (not caught by States.ALL).
inline constexpr size_t kMaxPayloadBytes = 256 * 1024;
// Events in one execution's history: AWS's hard quota. When event 25,000 would not be the
// ExecutionSucceeded event, the execution fails with States.Runtime (AWS: ExecutionFailed
// "The execution reached the maximum number of history events (25000).").
inline constexpr int64_t kMaxHistoryEvents = 25000;
// Parallel/Map nesting (a branch or item processor holding another Parallel/Map). AWS
// publishes no number; every level holds stack frames and worker threads, so validate
// refuses deeper definitions rather than run risking the stack.
inline constexpr int kMaxStateNesting = 16;
// Wait Seconds/SecondsPath, Retry IntervalSeconds, TimeoutSeconds: AWS's 99999999 seconds
// (about 3.2 years); longer values would overflow millisecond deadlines.
inline constexpr int64_t kMaxWaitSeconds = 99999999;
// Definition text size: AWS's 1 MB hard quota for a state machine definition.
inline constexpr size_t kMaxDefinitionBytes = 1024 * 1024;

// The AWS error name for payload limits.
inline constexpr const char* kDataLimitExceeded = "States.DataLimitExceeded";

// OK when `value` nests at most kMaxJsonDepth levels and serializes to at most
// kMaxPayloadBytes; otherwise a message naming `what`, the size and the limit.
// Costs one serialization (bounded depth first, so it never recurses deeply).
bool PayloadWithinLimits(const Json& value, std::string* why, const std::string& what);

}  // namespace vqi::workflow
