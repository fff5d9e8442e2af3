// Verify and garbage-collect <home>/artifacts across reference sources, under a folder flock.
#include "vqi/registry/artifacts.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

#include "vqi/blob/blob_store.h"

namespace vqi::registry {
namespace fs = std::filesystem;

Result<ArtifactLock> ArtifactLock::Acquire(const std::string& dir, bool exclusive, int timeout_ms) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Unavailable("artifact store " + dir + ": " + std::strerror(errno));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (::flock(fd, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) != 0) {
    const int err = errno;
    if (err != EWOULDBLOCK && err != EINTR) {
      ::close(fd);
      return Unavailable("artifact store " + dir + ": flock: " + std::strerror(err));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::close(fd);
      return Unavailable("artifact store " + dir + ": " +
                         (exclusive ? "a registration or upload is in progress"
                                    : "garbage collection is in progress") +
                         " (waited " + std::to_string(timeout_ms / 1000) + " s); try again");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return ArtifactLock(fd, exclusive);
}

Result<ArtifactLock> ArtifactLock::Shared(const std::string& dir, int timeout_ms) {
  return Acquire(dir, false, timeout_ms);
}
Result<ArtifactLock> ArtifactLock::Exclusive(const std::string& dir, int timeout_ms) {
  return Acquire(dir, true, timeout_ms);
}
ArtifactLock::~ArtifactLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the flock
}

Result<std::vector<std::pair<std::string, int64_t>>> ListBlobs(const std::string& dir) {
  std::vector<std::pair<std::string, int64_t>> out;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, ec), end;
  if (ec) return Unavailable("artifact store " + dir + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return Unavailable("artifact store " + dir + ": " + ec.message());
    if (!it->is_regular_file(ec)) continue;
    const std::string name = it->path().filename().string();
    if (name.size() < 64 || !blob::IsDigest(std::string_view(name).substr(0, 64))) continue;
    if (it->path().parent_path().filename() != name.substr(0, 2)) continue;
    out.emplace_back(name.substr(0, 64), static_cast<int64_t>(it->file_size(ec)));
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

// digest -> the first source naming it.
Result<std::map<std::string, std::string>> References(
    const std::vector<ReferenceSource*>& sources) {
  std::map<std::string, std::string> refs;
  for (ReferenceSource* s : sources) {
    auto digests = s->ReferencedDigests();
    if (!digests.ok())
      return digests.status().WithContext("cannot read the references of " + s->SourceName());
    for (const std::string& d : *digests) refs.emplace(d, s->SourceName());
  }
  return refs;
}

}  // namespace

Result<ArtifactCheck> VerifyArtifacts(const blob::BlobStore& blobs,
                                      const std::vector<ReferenceSource*>& sources) {
  VQI_ASSIGN_OR_RETURN(auto refs, References(sources));
  VQI_ASSIGN_OR_RETURN(blob::VerifyReport v, blobs.Verify());
  ArtifactCheck c;
  c.blobs = v.blobs;
  c.bytes = v.bytes;
  c.corrupt = std::move(v.corrupt);
  c.strays = std::move(v.strays);
  VQI_ASSIGN_OR_RETURN(auto stored, ListBlobs(blobs.dir()));
  std::set<std::string> have;
  for (const auto& [d, size] : stored) have.insert(d);
  for (const auto& [digest, source] : refs)
    if (!have.count(digest)) c.missing.push_back(digest + " (referenced by " + source + ")");
  return c;
}

Result<ArtifactGc> CollectArtifacts(blob::BlobStore& blobs,
                                    const std::vector<ReferenceSource*>& sources, bool dry_run,
                                    const ArtifactLock& held) {
  VQI_CHECK_MSG(held.exclusive(), "CollectArtifacts needs the exclusive artifact lock");
  VQI_ASSIGN_OR_RETURN(auto refs, References(sources));
  std::set<std::string> referenced;
  for (const auto& [d, s] : refs) referenced.insert(d);
  ArtifactGc gc;
  gc.dry_run = dry_run;
  gc.referenced = static_cast<int64_t>(referenced.size());
  VQI_ASSIGN_OR_RETURN(auto stored, ListBlobs(blobs.dir()));
  for (const auto& [d, size] : stored) {
    if (referenced.count(d)) continue;
    if (gc.removed_digests.empty() || gc.removed_digests.back() != d)
      gc.removed_digests.push_back(d);
  }
  if (dry_run) {
    for (const auto& [d, size] : stored) {
      if (referenced.count(d)) {
        ++gc.kept;
      } else {
        ++gc.removed;
        gc.bytes_freed += size;
      }
    }
    return gc;
  }
  VQI_ASSIGN_OR_RETURN(blob::GcReport r, blobs.CollectGarbage(referenced));
  gc.kept = r.kept;
  gc.removed = r.removed;
  gc.bytes_freed = r.bytes_freed;
  gc.temp_removed = r.temp_removed;
  return gc;
}

KnownSource RegistrySource() {
  return {"registry", "registry/registry.db",
          [](const std::string& path) -> Result<std::unique_ptr<ReferenceSource>> {
            VQI_ASSIGN_OR_RETURN(std::unique_ptr<Store> s, OpenSqliteStore(path, {false, nullptr}));
            return std::unique_ptr<ReferenceSource>(std::move(s));
          }};
}

Result<std::vector<std::unique_ptr<ReferenceSource>>> OpenReferenceSources(
    const std::string& home, const std::vector<KnownSource>& known) {
  std::vector<std::unique_ptr<ReferenceSource>> out;
  for (const KnownSource& k : known) {
    const std::string path = home + "/" + k.db_path;
    std::error_code ec;
    const bool exists = fs::exists(path, ec);
    if (ec)
      return FailedPrecondition(k.name + " database " + path + ": " + ec.message() +
                                ": its references cannot be read");
    if (!exists) continue;
    if (!k.open)
      return FailedPrecondition(k.name + " database " + path +
                                " exists but this vqi build cannot read its references");
    auto s = k.open(path);
    if (!s.ok())
      return FailedPrecondition(k.name + " database " + path + " cannot be opened (" +
                                s.status().ToString() + "): its references cannot be read");
    out.push_back(std::move(*s));
  }
  return out;
}

}  // namespace vqi::registry
