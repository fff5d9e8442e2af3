// The one artifact blob store <home>/artifacts/ as a whole: `vqi store verify` and
// `vqi store gc` across every store that references it (registry, components), and the lock
// that keeps gc from deleting blobs whose references are about to be committed.
//
// Protocol for every writer (registry, component store): take ArtifactLock::Shared before the
// first Put and hold it until the database commit that references the blobs; gc holds
// ArtifactLock::Exclusive while it reads every source's references and deletes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/registry/store.h"

namespace vqi::blob {
class BlobStore;
}

namespace vqi::registry {

// flock(2) on the artifact folder itself (no lock file). Released on destruction.
class ArtifactLock {
 public:
  // Wait up to `timeout_ms` (then Unavailable: "another ... holds the artifact store").
  static Result<ArtifactLock> Shared(const std::string& artifacts_dir, int timeout_ms = 60000);
  static Result<ArtifactLock> Exclusive(const std::string& artifacts_dir, int timeout_ms = 60000);
  ArtifactLock(ArtifactLock&& o) noexcept : fd_(o.fd_), exclusive_(o.exclusive_) { o.fd_ = -1; }
  ArtifactLock& operator=(ArtifactLock&&) = delete;
  ArtifactLock(const ArtifactLock&) = delete;
  ~ArtifactLock();
  bool exclusive() const { return exclusive_; }

 private:
  ArtifactLock(int fd, bool exclusive) : fd_(fd), exclusive_(exclusive) {}
  static Result<ArtifactLock> Acquire(const std::string& dir, bool exclusive, int timeout_ms);
  int fd_;
  bool exclusive_;
};

struct ArtifactCheck {
  int64_t blobs = 0;                 // blob files re-hashed
  int64_t bytes = 0;                 // bytes re-hashed
  std::vector<std::string> corrupt;  // "<path>: content hashes to <digest>"
  std::vector<std::string> missing;  // "<digest> (referenced by <source>)"
  std::vector<std::string> strays;   // files not named like blobs (left alone)
  bool ok() const { return corrupt.empty() && missing.empty(); }
};

// Re-hashes every blob and checks that every digest a source references is stored.
// An error from any source is returned (a check that skipped a source would lie).
Result<ArtifactCheck> VerifyArtifacts(const blob::BlobStore& blobs,
                                      const std::vector<ReferenceSource*>& sources);

struct ArtifactGc {
  int64_t referenced = 0;  // distinct digests the sources reference
  int64_t kept = 0;
  int64_t removed = 0;  // (dry run: would be removed)
  int64_t bytes_freed = 0;
  int64_t temp_removed = 0;
  std::vector<std::string> removed_digests;  // sorted
  bool dry_run = false;
};

// Reads every source's references (any error → that error, nothing deleted) and deletes the
// blobs none references (with `dry_run`, only lists them). REQUIRES: `held` is
// ArtifactLock::Exclusive on blobs.dir(), taken BEFORE the sources were opened (so a
// registration that creates a source's database meanwhile cannot be missed).
Result<ArtifactGc> CollectArtifacts(blob::BlobStore& blobs,
                                    const std::vector<ReferenceSource*>& sources, bool dry_run,
                                    const ArtifactLock& held);

// A store that may reference artifacts: its database under <home> and how to open it.
struct KnownSource {
  std::string name;     // "registry", "components"
  std::string db_path;  // relative to <home>: "registry/registry.db"
  // Opens the existing database; null when this build cannot read it.
  std::function<Result<std::unique_ptr<ReferenceSource>>(const std::string& path)> open;
};
// The registry's KnownSource (OpenSqliteStore, create=false).
KnownSource RegistrySource();
// Opens every known source whose database exists under `home` (one that does not exist
// references nothing). FailedPrecondition when a database exists but this build has no reader
// for it, or it cannot be opened: callers that delete must then stop.
Result<std::vector<std::unique_ptr<ReferenceSource>>> OpenReferenceSources(
    const std::string& home, const std::vector<KnownSource>& known);

// The digests stored in `dir` with their sizes (files named like blobs, any extension).
Result<std::vector<std::pair<std::string, int64_t>>> ListBlobs(const std::string& dir);

}  // namespace vqi::registry
