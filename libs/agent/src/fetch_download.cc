// ComponentFetcher's artifact downloads (fetch.h): cache lookup, resumable transfer into a part
// file hashed while written, retries, and the move into the cache once size and digest match.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "vqi/agent/fetch.h"
#include "vqi/base/hash.h"

namespace vqi::agent {
namespace fs = std::filesystem;

namespace {

// An open file descriptor closed on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  for (size_t done = 0; done < data.size();) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOSPC || errno == EDQUOT || errno == EFBIG)
        return ResourceExhausted("disk full writing " + path + " (" + std::strerror(errno) + ")");
      return Unavailable("cannot write " + path + ": " + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

Status ComponentFetcher::DownloadOnce(const std::string& digest, int64_t size, bool* resumed) {
  const std::string part = cache_.PartPath(digest);
  Fd f;
  f.fd = ::open(part.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (f.fd < 0) return Unavailable("cannot open " + part + ": " + std::strerror(errno));
  struct stat st;
  if (::fstat(f.fd, &st) != 0)
    return Unavailable("cannot stat " + part + ": " + std::strerror(errno));
  int64_t have = st.st_size;
  auto hash = std::make_unique<Sha256>();
  if (have > size) {  // not ours to continue
    if (::ftruncate(f.fd, 0) != 0) return Unavailable("cannot truncate " + part);
    have = 0;
  }
  if (have > 0) {  // hash what is there (hash state is not persisted)
    std::vector<char> buf(256 << 10);
    int64_t off = 0;
    while (off < have) {
      const ssize_t n = ::pread(f.fd, buf.data(), std::min<int64_t>(have - off, buf.size()), off);
      if (n <= 0) return Unavailable("cannot read " + part + ": " + std::strerror(errno));
      hash->Update(std::string_view(buf.data(), static_cast<size_t>(n)));
      off += n;
    }
    *resumed = true;
  }
  if (::lseek(f.fd, have, SEEK_SET) < 0) return Unavailable("cannot seek in " + part);

  Status sink_error;
  bool first = true;
  auto sink = [&](const BodyResponse& head, std::string_view data) {
    const bool starting = first;
    first = false;
    // 200 to a ranged request: the server ignored the Range (or the If-Range tag changed).
    if (starting && head.status == 200 && *resumed) {
      *resumed = false;
      ++counters_.restarts;
      if (::ftruncate(f.fd, 0) != 0 || ::lseek(f.fd, 0, SEEK_SET) < 0) {
        sink_error = Unavailable("cannot truncate " + part);
        return false;
      }
      have = 0;
      hash = std::make_unique<Sha256>();
    }
    if (starting && head.status == 206 && head.range_start != have) {
      // DataLoss: GetArtifact drops the part and starts once more from byte 0.
      sink_error =
          DataLoss("the server answered a range from byte " + std::to_string(head.range_start) +
                   ", asked from " + std::to_string(have));
      return false;
    }
    if (have + static_cast<int64_t>(data.size()) > size) {
      sink_error =
          DataLoss("the server sent more than the manifest's " + std::to_string(size) + " bytes");
      return false;
    }
    if (Status w = WriteAll(f.fd, data, part); !w.ok()) {
      sink_error = w;
      return false;
    }
    hash->Update(data);
    have += static_cast<int64_t>(data.size());
    counters_.bytes_downloaded += static_cast<int64_t>(data.size());
    if (options_.progress && !options_.progress(digest, have)) return false;
    return true;
  };
  if (*resumed) ++counters_.resumes;
  if (have < size || size == 0) {
    auto r = http_->GetBody("/v1/artifacts/" + digest, have, have > 0 ? "\"" + digest + "\"" : "",
                            size + 1, sink);
    counters_.requests = http_->requests();
    if (!sink_error.ok()) return sink_error;
    if (!r.ok()) return r.status();
  }
  if (have != size)
    return Unavailable("the transfer ended at byte " + std::to_string(have) + " of " +
                       std::to_string(size));
  const std::string got = hash->FinalHex();
  if (got != digest) return DataLoss("content hashes to " + got + ", manifest says " + digest);
  if (::fsync(f.fd) != 0) return Unavailable("cannot fsync " + part + ": " + std::strerror(errno));
  return Status::Ok();
}

Result<FetchedArtifact> ComponentFetcher::GetArtifact(const std::string& digest, int64_t size) {
  FetchedArtifact a;
  a.digest = digest;
  a.size = size;
  bool corrupt = false;
  VQI_ASSIGN_OR_RETURN(auto cached, cache_.Lookup(digest, size, &corrupt));
  if (corrupt) ++counters_.cache_corrupt;
  if (cached) {
    ++counters_.cache_hits;
    counters_.bytes_from_cache += size;
    a.path = *cached;
    a.from_cache = true;
    return a;
  }
  const std::string part = cache_.PartPath(digest);
  bool restarted = false;
  for (int attempt = 1;; ++attempt) {
    bool resumed = false;
    Status st = DownloadOnce(digest, size, &resumed);
    if (st.ok()) break;
    std::error_code ec;
    const bool refused =
        st.code() == StatusCode::kDataLoss || st.code() == StatusCode::kInvalidArgument;
    if (refused && resumed && !restarted) {
      // The part may come from a damaged earlier transfer (wrong bytes, or longer than the
      // server's blob: 416): once more from byte 0.
      restarted = true;
      ++counters_.restarts;
      fs::remove(part, ec);
      continue;
    }
    if (IsRetryable(st) && attempt < options_.retry.attempts) {
      ++counters_.retries;
      Backoff(attempt);
      continue;
    }
    // Keep a part worth resuming (cut transfers, cancellation); drop one that is wrong.
    if (!IsRetryable(st) && st.code() != StatusCode::kCancelled) fs::remove(part, ec);
    return st;
  }
  VQI_RETURN_IF_ERROR(cache_.Commit(digest));
  a.path = cache_.BlobPath(digest);
  return a;
}

}  // namespace vqi::agent
