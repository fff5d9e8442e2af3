// BlobCache (fetch_cache.h).
#include "vqi/agent/fetch_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "vqi/base/file.h"
#include "vqi/base/hash.h"

namespace vqi::agent {
namespace fs = std::filesystem;

namespace {

bool IsDigestName(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Unavailable("cannot open folder " + dir + ": " + std::strerror(errno));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Unavailable("cannot fsync folder " + dir + ": " + std::strerror(errno));
  return Status::Ok();
}

}  // namespace

Result<BlobCache> BlobCache::Open(const std::string& root) {
  const std::string dir = root + "/cache";
  VQI_RETURN_IF_ERROR(MakeDirs(dir + "/tmp"));
  VQI_RETURN_IF_ERROR(MakeDirs(dir + "/meta"));
  return BlobCache(dir);
}

std::string BlobCache::MetaPath(const std::string& name, const std::string& version) const {
  return dir_ + "/meta/" + name + "@" + version + ".json";
}

Result<std::optional<std::string>> BlobCache::Lookup(const std::string& digest, int64_t size,
                                                     bool* corrupt) {
  *corrupt = false;
  const std::string path = BlobPath(digest);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return Unavailable("cannot stat cached blob " + path + ": " + std::strerror(errno));
  }
  bool good = S_ISREG(st.st_mode) && st.st_size == size;
  if (good) {
    auto h = Sha256File(path);
    good = h.ok() && *h == digest;
  }
  if (!good) {
    *corrupt = true;
    std::error_code ec;
    fs::remove_all(path, ec);
    if (ec) return Unavailable("cannot remove damaged cached blob " + path + ": " + ec.message());
    return std::optional<std::string>();
  }
  ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);  // now: most recently used
  return std::optional<std::string>(path);
}

Status BlobCache::Commit(const std::string& digest) {
  const std::string from = PartPath(digest), to = BlobPath(digest);
  if (::rename(from.c_str(), to.c_str()) != 0)
    return Unavailable("cannot move " + from + " to " + to + ": " + std::strerror(errno));
  return SyncDir(dir_);
}

Result<int64_t> BlobCache::SizeBytes() const {
  int64_t total = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (!IsDigestName(e.path().filename().string())) continue;
    std::error_code ec2;
    if (e.is_regular_file(ec2)) total += static_cast<int64_t>(e.file_size(ec2));
  }
  if (ec) return Unavailable("cannot list " + dir_ + ": " + ec.message());
  return total;
}

Result<TrimResult> BlobCache::Trim(int64_t max_bytes, const std::set<std::string>& pinned) {
  struct Entry {
    std::string path;
    std::string digest;
    int64_t size;
    struct timespec mtime;
  };
  std::vector<Entry> entries;
  TrimResult r;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    const std::string name = e.path().filename().string();
    if (!IsDigestName(name)) continue;
    struct stat st;
    if (::stat(e.path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    entries.push_back({e.path().string(), name, static_cast<int64_t>(st.st_size), st.st_mtim});
    r.remaining_bytes += static_cast<int64_t>(st.st_size);
  }
  if (ec) return Unavailable("cannot list " + dir_ + ": " + ec.message());
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    if (a.mtime.tv_sec != b.mtime.tv_sec) return a.mtime.tv_sec < b.mtime.tv_sec;
    if (a.mtime.tv_nsec != b.mtime.tv_nsec) return a.mtime.tv_nsec < b.mtime.tv_nsec;
    return a.digest < b.digest;
  });
  for (const Entry& e : entries) {
    if (r.remaining_bytes <= max_bytes) break;
    if (pinned.count(e.digest)) continue;
    if (::unlink(e.path.c_str()) != 0)
      return Unavailable("cannot evict " + e.path + ": " + std::strerror(errno));
    ++r.evicted_blobs;
    r.evicted_bytes += e.size;
    r.remaining_bytes -= e.size;
  }
  return r;
}

}  // namespace vqi::agent
