// A content-addressed blob store on the local file system: each blob is a file named by the
// SHA-256 of its bytes, stored once.
//
// Layout: <dir>/<first two hex digits>/<digest><ext>. `ext` is an optional suffix (".jpg")
// kept so tools that go by file extension can read a blob in place; the identity of a blob is
// its digest alone (garbage collection and verification go by digest).
//
// Atomicity: a put writes a temporary file in the blob's folder and renames it into place, so
// a reader sees the whole blob or none. Durability: with Durability::kEachPut the file and
// its folder are fsynced before Put returns; with kBatch, Put returns after the rename and
// Sync() makes every put so far durable with one syncfs() — call it before recording a
// reference to the blobs anywhere else (e.g. before a database commit).
//
// Limits: one put holds at most `max_blob_bytes` (ResourceExhausted, nothing written).
// Errors: InvalidArgument for a malformed digest or extension (so no path can escape `dir`),
// NotFound for a missing blob, DataLoss for a stored blob whose bytes no longer hash to its
// name, Unavailable for I/O errors.
//
// Thread-compatibility: one BlobStore per thread. Several processes may put into one folder
// at once (temporary names are unique); CollectGarbage must not run concurrently with puts
// whose references are not yet recorded (callers hold their own write lock around it).
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/status.h"

namespace vqi::blob {

enum class Durability { kEachPut, kBatch };

struct BlobStoreOptions {
  int64_t max_blob_bytes = int64_t{256} << 20;  // docs/limits.md (datasets)
  Durability durability = Durability::kEachPut;
};

struct PutResult {
  std::string digest;  // SHA-256, lowercase hex
  int64_t size = 0;
  bool created = false;  // false: the blob was already stored (deduplicated)
};

struct VerifyReport {
  int64_t blobs = 0;                 // files checked
  int64_t bytes = 0;                 // bytes re-hashed
  std::vector<std::string> corrupt;  // "<path>: content hashes to <digest>"
  std::vector<std::string> strays;   // files that are not named like blobs (ignored)
  bool ok() const { return corrupt.empty(); }
};

struct GcReport {
  int64_t kept = 0;
  int64_t removed = 0;
  int64_t bytes_freed = 0;
  int64_t temp_removed = 0;  // abandoned temporary files (older than an hour)
};

class BlobStore {
 public:
  // Creates `dir` if needed.
  static Result<std::unique_ptr<BlobStore>> Open(const std::string& dir,
                                                 const BlobStoreOptions& options = {});
  ~BlobStore();
  BlobStore(const BlobStore&) = delete;
  BlobStore& operator=(const BlobStore&) = delete;

  const std::string& dir() const { return dir_; }
  const BlobStoreOptions& options() const { return options_; }

  // Stores `bytes`. If the blob exists with different bytes (damaged), it is rewritten.
  Result<PutResult> Put(std::string_view bytes, std::string_view ext = "");
  // Streams the file at `path` into the store, checking its size before reading it.
  // InvalidArgument if it is not a regular file.
  Result<PutResult> PutFile(const std::string& path, std::string_view ext = "");
  // The bytes of a blob, re-hashed (DataLoss if they no longer match the digest).
  Result<std::string> Get(std::string_view digest, std::string_view ext = "") const;
  // Whether the blob's file exists (not re-hashed).
  Result<bool> Exists(std::string_view digest, std::string_view ext = "") const;
  // The file of a blob. InvalidArgument for a malformed digest or extension.
  Result<std::string> Path(std::string_view digest, std::string_view ext = "") const;
  // Deletes one blob (every extension of it); false if it was not stored.
  Result<bool> Remove(std::string_view digest);

  // Makes every put since the last Sync durable (kBatch); a no-op when nothing is pending.
  Status Sync();

  // Re-hashes every blob.
  Result<VerifyReport> Verify() const;
  // Deletes every blob whose digest is not in `referenced`, and abandoned temporary files.
  Result<GcReport> CollectGarbage(const std::set<std::string>& referenced);

 private:
  BlobStore(std::string dir, BlobStoreOptions options);
  Result<PutResult> Commit(const std::string& tmp, const std::string& digest, int64_t size,
                           std::string_view ext);
  Result<std::string> TempFile(const std::string& shard, int* fd);

  std::string dir_;
  BlobStoreOptions options_;
  bool unsynced_ = false;
  uint64_t counter_ = 0;
};

// True for 64 lowercase hex digits.
bool IsDigest(std::string_view s);

}  // namespace vqi::blob
