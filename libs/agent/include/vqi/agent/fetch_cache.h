// BlobCache: verified blobs by digest under <root>/cache (docs/design/fetch.md).
//
//   <root>/cache/<sha256>            a blob whose bytes hash to its name (only renamed in verified)
//   <root>/cache/tmp/<sha256>.part   a download in progress (resumable)
//   <root>/cache/meta/<name>@<version>.json   the signed metadata of a fetched component
//
// Thread-compatibility: one BlobCache (and one agent process) per root.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "vqi/base/status.h"

namespace vqi::agent {

struct TrimResult {
  int64_t evicted_blobs = 0;
  int64_t evicted_bytes = 0;
  int64_t remaining_bytes = 0;
};

class BlobCache {
 public:
  // Creates <root>/cache and <root>/cache/tmp. Unavailable if they cannot be made.
  static Result<BlobCache> Open(const std::string& root);

  const std::string& dir() const { return dir_; }
  std::string BlobPath(const std::string& digest) const { return dir_ + "/" + digest; }
  std::string PartPath(const std::string& digest) const {
    return dir_ + "/tmp/" + digest + ".part";
  }
  std::string MetaPath(const std::string& name, const std::string& version) const;

  // The blob `digest` of `size` bytes if cached and intact: it is re-hashed; a damaged one is
  // deleted (*corrupt set) and nullopt returned. A hit touches the file (LRU order).
  Result<std::optional<std::string>> Lookup(const std::string& digest, int64_t size, bool* corrupt);
  // Moves a verified part file into the cache (fsync of the file was done by the writer; the
  // folder is fsynced here).
  Status Commit(const std::string& digest);
  // Total bytes of cached blobs.
  Result<int64_t> SizeBytes() const;
  // Deletes least recently used blobs not in `pinned` until at most `max_bytes` remain.
  Result<TrimResult> Trim(int64_t max_bytes, const std::set<std::string>& pinned);

 private:
  explicit BlobCache(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

}  // namespace vqi::agent
