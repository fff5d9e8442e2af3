// Small text helpers shared by the results-topic message parsers (result_message.cc,
// upload_message.cc, drift_message.cc). Internal to libs/results.
#pragma once

#include <string>
#include <string_view>

#include "vqi/base/json.h"

namespace vqi::results::internal {

// A device-sent value for an error message: at most 80 bytes, JSON-quoted, invalid UTF-8
// replaced (a hostile payload cannot break the log line).
inline std::string Quote(std::string_view s) {
  std::string cut(s.substr(0, 80));
  return Json(cut).dump(-1, ' ', true, Json::error_handler_t::replace);
}

// 64 lowercase hex digits (a SHA-256 as vqi writes it).
inline bool IsHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace vqi::results::internal
