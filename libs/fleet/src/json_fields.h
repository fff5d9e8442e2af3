// Strict JSON object reading for the fleet documents: every error names the JSON path, unknown
// keys are refused. Header-only, shared by fleet_protocol and fleet.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <string>
#include <string_view>

#include "vqi/base/json.h"
#include "vqi/base/status.h"

namespace vqi::fleet::internal {

inline std::string Join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

inline const char* TypeName(const Json& v) { return v.type_name(); }

// A number as people write it: 100, 1.1, 1e+300.
inline std::string FormatG(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// InvalidArgument "<path>: unknown key; accepted: a, b, c" for the first key not in `known`.
inline Status RefuseUnknown(const Json& obj, const std::string& path,
                            std::initializer_list<std::string_view> known) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool ok = false;
    for (std::string_view k : known) ok = ok || it.key() == k;
    if (!ok) {
      std::string list;
      for (std::string_view k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      return InvalidArgument(Join(path, it.key()) + ": unknown key; accepted: " + list);
    }
  }
  return Status::Ok();
}

inline Status ExpectObject(const Json& v, const std::string& path) {
  if (!v.is_object())
    return InvalidArgument((path.empty() ? std::string("document") : path) +
                           ": not a JSON object (got " + TypeName(v) + ")");
  return Status::Ok();
}

inline Result<std::string> GetString(const Json& obj, const std::string& path, std::string_view key,
                                     bool required, const std::string& fallback = "") {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) return InvalidArgument(Join(path, key) + ": missing");
    return fallback;
  }
  if (!it->is_string())
    return InvalidArgument(Join(path, key) + ": not a JSON string (got " + TypeName(*it) + ")");
  return it->get<std::string>();
}

inline Result<double> GetNumber(const Json& obj, const std::string& path, std::string_view key,
                                bool required, double fallback, double lo, double hi) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) return InvalidArgument(Join(path, key) + ": missing");
    return fallback;
  }
  if (!it->is_number())
    return InvalidArgument(Join(path, key) + ": not a number (got " + TypeName(*it) + ")");
  const double v = it->get<double>();
  if (!std::isfinite(v) || v < lo || v > hi)
    return InvalidArgument(Join(path, key) + ": " + it->dump() + " is out of range [" +
                           FormatG(lo) + ", " + FormatG(hi) + "]");
  return v;
}

inline Result<int64_t> GetInt(const Json& obj, const std::string& path, std::string_view key,
                              bool required, int64_t fallback, int64_t lo, int64_t hi) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) return InvalidArgument(Join(path, key) + ": missing");
    return fallback;
  }
  if (!it->is_number_integer())
    return InvalidArgument(Join(path, key) + ": not an integer (got " + it->dump().substr(0, 40) +
                           ")");
  const int64_t v = it->is_number_unsigned() && it->get<uint64_t>() > uint64_t(INT64_MAX)
                        ? INT64_MAX
                        : it->get<int64_t>();
  if (v < lo || v > hi)
    return InvalidArgument(Join(path, key) + ": " + std::to_string(v) + " is out of range [" +
                           std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return v;
}

// One of `accepted`, else InvalidArgument naming them.
inline Result<std::string> GetEnum(const Json& obj, const std::string& path, std::string_view key,
                                   std::initializer_list<std::string_view> accepted, bool required,
                                   const std::string& fallback) {
  VQI_ASSIGN_OR_RETURN(std::string v, GetString(obj, path, key, required, fallback));
  std::string list;
  for (std::string_view a : accepted) {
    if (v == a) return v;
    list += (list.empty() ? "" : "|") + std::string(a);
  }
  return InvalidArgument(Join(path, key) + ": '" + v.substr(0, 64) + "' is not one of " + list);
}

}  // namespace vqi::fleet::internal
