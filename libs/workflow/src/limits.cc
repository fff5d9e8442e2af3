// Payload checks (see limits.h).
#include "vqi/workflow/limits.h"

namespace vqi::workflow {

bool PayloadWithinLimits(const Json& value, std::string* why, const std::string& what) {
  if (JsonDepth(value, kMaxJsonDepth) > kMaxJsonDepth) {
    *why = what + " is nested deeper than " + std::to_string(kMaxJsonDepth) +
           " levels (limit: docs/limits.md)";
    return false;
  }
  // Replace invalid UTF-8 instead of throwing: only the size matters here.
  size_t size = value.dump(-1, ' ', false, Json::error_handler_t::replace).size();
  if (size > kMaxPayloadBytes) {
    *why = what + " has a size of " + std::to_string(size) +
           " bytes, which exceeds the maximum of " + std::to_string(kMaxPayloadBytes) +
           " bytes (256 KiB, docs/limits.md)";
    return false;
  }
  return true;
}

}  // namespace vqi::workflow
