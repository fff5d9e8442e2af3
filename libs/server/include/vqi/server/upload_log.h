// What `PUT /v1/artifacts` stored, so `vqi store gc` keeps a fresh upload until a registration
// or component references it (docs/design/server.md, "Uploads and gc").
//
// <home>/server/uploads.db holds (digest, size, time, who) per upload. As a gc reference
// source it references every digest uploaded within the retention period (kUploadRetention,
// docs/limits.md); older uploads are referenced only by whatever store took them in.
//
// Thread-safety: every method may be called from many threads at once (one connection under a
// lock). Several processes may open the file (SQLite locking).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <string>

#include "vqi/base/status.h"

namespace vqi::server {

inline constexpr std::chrono::hours kUploadRetention{24};

class UploadLog {
 public:
  virtual ~UploadLog() = default;
  // Records an upload of `digest` at `unix_ms` by `who`.
  virtual Status Record(const std::string& digest, int64_t size, const std::string& who,
                        int64_t unix_ms) = 0;
  // Digests uploaded at or after `since_unix_ms`.
  virtual Result<std::set<std::string>> UploadedSince(int64_t since_unix_ms) = 0;
};

// <home>/server/uploads.db; `create` false: NotFound when it does not exist.
Result<std::unique_ptr<UploadLog>> OpenUploadLog(const std::string& home, bool create = true);

}  // namespace vqi::server
