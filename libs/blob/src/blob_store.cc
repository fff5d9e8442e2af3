#include "vqi/blob/blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "vqi/base/file.h"
#include "vqi/base/hash.h"

namespace vqi::blob {
namespace fs = std::filesystem;

namespace {

constexpr const char* kTempPrefix = ".tmp-";
constexpr auto kAbandonedAfter = std::chrono::hours(1);

Status Errno(const std::string& what) { return Unavailable(what + ": " + std::strerror(errno)); }

bool ValidExt(std::string_view ext) {
  if (ext.empty()) return true;
  if (ext.size() < 2 || ext.size() > 11 || ext[0] != '.') return false;
  for (char c : ext.substr(1))
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  return true;
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("write " + path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status FsyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open " + dir);
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::Ok() : Errno("fsync " + dir);
}

// The digest a stored file name claims, or "" for a file not named like a blob.
std::string DigestOfName(const std::string& name) {
  if (name.size() < 64) return "";
  const std::string d = name.substr(0, 64);
  if (!IsDigest(d) || !ValidExt(std::string_view(name).substr(64))) return "";
  return d;
}

std::string TooBig(int64_t size, int64_t limit, const std::string& what) {
  return what + " is " + std::to_string(size) + " bytes; a blob may hold at most " +
         std::to_string(limit) + " bytes";
}

}  // namespace

bool IsDigest(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

BlobStore::BlobStore(std::string dir, BlobStoreOptions options)
    : dir_(std::move(dir)), options_(options) {}
BlobStore::~BlobStore() = default;

Result<std::unique_ptr<BlobStore>> BlobStore::Open(const std::string& dir,
                                                   const BlobStoreOptions& options) {
  if (options.max_blob_bytes <= 0) return InvalidArgument("blob store: max_blob_bytes must be > 0");
  VQI_RETURN_IF_ERROR(MakeDirs(dir));
  return std::unique_ptr<BlobStore>(new BlobStore(dir, options));
}

Result<std::string> BlobStore::Path(std::string_view digest, std::string_view ext) const {
  if (!IsDigest(digest))
    return InvalidArgument("blob store: '" + std::string(digest.substr(0, 80)) +
                           "' is not a SHA-256 digest (64 lowercase hex digits)");
  if (!ValidExt(ext))
    return InvalidArgument("blob store: bad extension '" + std::string(ext.substr(0, 20)) +
                           "' (expected '.' and 1-10 letters or digits)");
  return dir_ + "/" + std::string(digest.substr(0, 2)) + "/" + std::string(digest) +
         std::string(ext);
}

Result<std::string> BlobStore::TempFile(const std::string& shard, int* fd) {
  VQI_RETURN_IF_ERROR(MakeDirs(shard));
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::string tmp =
        shard + "/" + kTempPrefix + std::to_string(::getpid()) + "-" + std::to_string(counter_++);
    *fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (*fd >= 0) return tmp;
    if (errno != EEXIST) return Errno("create " + tmp);
  }
  return Unavailable("blob store: cannot create a temporary file in " + shard);
}

// Moves the finished temporary file `tmp` into place (or drops it when an intact copy exists).
Result<PutResult> BlobStore::Commit(const std::string& tmp, const std::string& digest, int64_t size,
                                    std::string_view ext) {
  PutResult r{digest, size, false};
  auto path = Path(digest, ext);
  if (!path.ok()) {
    ::unlink(tmp.c_str());
    return path.status();
  }
  std::error_code ec;
  if (fs::file_size(*path, ec) == static_cast<uintmax_t>(size) && !ec) {
    auto existing = Sha256File(*path);
    if (existing.ok() && *existing == digest) {
      ::unlink(tmp.c_str());
      return r;  // deduplicated
    }
  }
  if (::rename(tmp.c_str(), path->c_str()) != 0) {
    const Status st = Errno("rename " + tmp);
    ::unlink(tmp.c_str());
    return st;
  }
  if (options_.durability == Durability::kEachPut) {
    VQI_RETURN_IF_ERROR(FsyncDir(fs::path(*path).parent_path().string()));
  } else {
    unsynced_ = true;
  }
  r.created = true;
  return r;
}

Result<PutResult> BlobStore::Put(std::string_view bytes, std::string_view ext) {
  const int64_t size = static_cast<int64_t>(bytes.size());
  if (size > options_.max_blob_bytes)
    return ResourceExhausted("blob store: " + TooBig(size, options_.max_blob_bytes, "the blob"));
  const std::string digest = Sha256Hex(bytes);
  VQI_ASSIGN_OR_RETURN(std::string path, Path(digest, ext));
  // Deduplicate without writing when an intact copy is stored.
  std::error_code ec;
  if (fs::file_size(path, ec) == bytes.size() && !ec) {
    auto existing = ReadFile(path);
    if (existing.ok() && *existing == bytes) return PutResult{digest, size, false};
  }
  int fd = -1;
  VQI_ASSIGN_OR_RETURN(std::string tmp, TempFile(fs::path(path).parent_path().string(), &fd));
  Status st = WriteAll(fd, bytes, tmp);
  if (st.ok() && options_.durability == Durability::kEachPut && ::fsync(fd) != 0)
    st = Errno("fsync " + tmp);
  if (::close(fd) != 0 && st.ok()) st = Errno("close " + tmp);
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  return Commit(tmp, digest, size, ext);
}

Result<PutResult> BlobStore::PutFile(const std::string& path, std::string_view ext) {
  if (!ValidExt(ext)) return Path(std::string(64, '0'), ext).status();
  const int in = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    if (errno == ENOENT) return NotFound(path + ": no such file");
    if (errno == EACCES) return PermissionDenied(path + ": " + std::strerror(errno));
    return Errno("open " + path);
  }
  struct stat sb {};
  if (::fstat(in, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    ::close(in);
    return InvalidArgument(path + ": not a regular file");
  }
  if (sb.st_size > options_.max_blob_bytes) {
    ::close(in);
    return ResourceExhausted("blob store: " + TooBig(sb.st_size, options_.max_blob_bytes, path));
  }
  // Into a temporary file in the store's root; moved to its shard once the digest is known.
  int fd = -1;
  auto tmp = TempFile(dir_ + "/tmp", &fd);
  if (!tmp.ok()) {
    ::close(in);
    return tmp.status();
  }
  Sha256 hash;
  int64_t size = 0;
  Status st;
  std::string buf(1 << 16, '\0');
  for (;;) {
    const ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      st = Errno("read " + path);
      break;
    }
    if (n == 0) break;
    size += n;
    if (size > options_.max_blob_bytes) {  // the file grew while being read
      st = ResourceExhausted("blob store: " +
                             TooBig(size, options_.max_blob_bytes, path + " (growing)"));
      break;
    }
    const std::string_view chunk(buf.data(), static_cast<size_t>(n));
    hash.Update(chunk);
    st = WriteAll(fd, chunk, *tmp);
    if (!st.ok()) break;
  }
  ::close(in);
  if (st.ok() && options_.durability == Durability::kEachPut && ::fsync(fd) != 0)
    st = Errno("fsync " + *tmp);
  if (::close(fd) != 0 && st.ok()) st = Errno("close " + *tmp);
  if (!st.ok()) {
    ::unlink(tmp->c_str());
    return st;
  }
  const std::string digest = hash.FinalHex();
  VQI_RETURN_IF_ERROR(MakeDirs(dir_ + "/" + digest.substr(0, 2)));
  return Commit(*tmp, digest, size, ext);
}

Result<std::string> BlobStore::Get(std::string_view digest, std::string_view ext) const {
  VQI_ASSIGN_OR_RETURN(std::string path, Path(digest, ext));
  auto bytes = ReadFile(path);
  if (!bytes.ok()) {
    if (bytes.status().code() == StatusCode::kNotFound)
      return NotFound("blob store: no blob " + std::string(digest) + std::string(ext));
    return bytes.status();
  }
  const std::string actual = Sha256Hex(*bytes);
  if (actual != digest)
    return DataLoss("blob store: " + path + " is damaged (content hashes to " + actual + ")");
  return std::move(*bytes);
}

Result<bool> BlobStore::Exists(std::string_view digest, std::string_view ext) const {
  VQI_ASSIGN_OR_RETURN(std::string path, Path(digest, ext));
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

Result<bool> BlobStore::Remove(std::string_view digest) {
  VQI_ASSIGN_OR_RETURN(std::string path, Path(digest));
  const fs::path shard = fs::path(path).parent_path();
  std::error_code ec;
  bool removed = false;
  for (fs::directory_iterator it(shard, ec), end; !ec && it != end; it.increment(ec)) {
    if (DigestOfName(it->path().filename().string()) != digest) continue;
    if (::unlink(it->path().c_str()) != 0) return Errno("remove " + it->path().string());
    removed = true;
  }
  if (removed && options_.durability == Durability::kEachPut)
    VQI_RETURN_IF_ERROR(FsyncDir(shard.string()));
  return removed;
}

Status BlobStore::Sync() {
  if (!unsynced_) return Status::Ok();
  const int fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open " + dir_);
  const int rc = ::syncfs(fd);
  ::close(fd);
  if (rc != 0) return Errno("syncfs " + dir_);
  unsynced_ = false;
  return Status::Ok();
}

Result<VerifyReport> BlobStore::Verify() const {
  VerifyReport report;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir_, ec), end;
  if (ec) return Unavailable("blob store: " + dir_ + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return Unavailable("blob store: " + dir_ + ": " + ec.message());
    if (!it->is_regular_file(ec)) continue;
    const std::string name = it->path().filename().string();
    if (name.rfind(kTempPrefix, 0) == 0) continue;
    const std::string digest = DigestOfName(name);
    if (digest.empty() || it->path().parent_path().filename() != digest.substr(0, 2)) {
      report.strays.push_back(it->path().string());
      continue;
    }
    ++report.blobs;
    auto actual = Sha256File(it->path().string());
    if (!actual.ok()) {
      report.corrupt.push_back(it->path().string() + ": " + actual.status().message());
      continue;
    }
    report.bytes += static_cast<int64_t>(it->file_size(ec));
    if (*actual != digest)
      report.corrupt.push_back(it->path().string() + ": content hashes to " + *actual);
  }
  return report;
}

Result<GcReport> BlobStore::CollectGarbage(const std::set<std::string>& referenced) {
  GcReport report;
  const auto now = fs::file_time_type::clock::now();
  std::vector<fs::path> doomed;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir_, ec), end;
  if (ec) return Unavailable("blob store: " + dir_ + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return Unavailable("blob store: " + dir_ + ": " + ec.message());
    if (!it->is_regular_file(ec)) continue;
    const std::string name = it->path().filename().string();
    if (name.rfind(kTempPrefix, 0) == 0) {
      const auto mtime = it->last_write_time(ec);
      if (!ec && now - mtime > kAbandonedAfter) {
        doomed.push_back(it->path());
        ++report.temp_removed;
      }
      continue;
    }
    const std::string digest = DigestOfName(name);
    if (digest.empty()) continue;  // not ours: never deleted
    if (referenced.count(digest)) {
      ++report.kept;
      continue;
    }
    report.bytes_freed += static_cast<int64_t>(it->file_size(ec));
    ++report.removed;
    doomed.push_back(it->path());
  }
  for (const fs::path& p : doomed)
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) return Errno("remove " + p.string());
  return report;
}

}  // namespace vqi::blob
