#include "vqi/component/zip.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "vqi/base/file.h"

namespace vqi::component {
namespace {

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
using ZipPtr = std::unique_ptr<zip_t, ZipCloser>;

Result<ZipPtr> Open(const std::string& path) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err);
  if (z) return ZipPtr(z);
  zip_error_t e;
  zip_error_init_with_code(&e, err);
  std::string msg = path + ": " + zip_error_strerror(&e);
  zip_error_fini(&e);
  if (err == ZIP_ER_NOENT) return NotFound(msg);
  if (err == ZIP_ER_OPEN || err == ZIP_ER_READ) return Unavailable(msg);
  return InvalidArgument(msg + " (not a readable ZIP archive)");
}

Status CheckName(const std::string& path, const std::string& name) {
  auto bad = [&](const std::string& why) {
    return InvalidArgument(path + ": entry '" + name + "': " + why);
  };
  if (name.empty()) return bad("the entry has no name");
  if (name.size() > kMaxZipEntryNameBytes)
    return bad("the name is longer than " + std::to_string(kMaxZipEntryNameBytes) + " bytes");
  if (name[0] == '/') return bad("absolute path; entries must be relative");
  if (name.size() >= 2 && name[1] == ':')
    return bad("a drive-letter path; entries must be relative");
  for (unsigned char c : name) {
    if (c == '\\') return bad("contains a backslash; entries use '/' between folders");
    if (c < 0x20 || c == 0x7f) return bad("contains a control character");
  }
  const std::string body = name.back() == '/' ? name.substr(0, name.size() - 1) : name;
  for (size_t at = 0; at <= body.size();) {
    const size_t end = std::min(body.find('/', at), body.size());
    const std::string seg = body.substr(at, end - at);
    if (seg == "..") return bad("contains '..'; it would escape the destination folder");
    if (seg.empty() || seg == ".") return bad("contains an empty or '.' path segment");
    at = end + 1;
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<ZipEntry>> CheckZipEntries(const std::string& zip_path,
                                              const ZipLimits& limits) {
  VQI_ASSIGN_OR_RETURN(ZipPtr z, Open(zip_path));
  const zip_int64_t n = zip_get_num_entries(z.get(), 0);
  if (n < 0) return InvalidArgument(zip_path + ": cannot read the ZIP central directory");
  if (static_cast<uint64_t>(n) > limits.max_entries)
    return ResourceExhausted(zip_path + ": the archive has " + std::to_string(n) +
                             " entries, more than the maximum of " +
                             std::to_string(limits.max_entries) + " (docs/limits.md)");
  std::vector<ZipEntry> out;
  std::set<std::string> files, dirs;  // paths without the trailing '/'
  uint64_t total = 0;
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z.get(), i, 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME))
      return InvalidArgument(zip_path + ": entry " + std::to_string(i) + ": unreadable header");
    ZipEntry e;
    e.name = st.name;
    VQI_RETURN_IF_ERROR(CheckName(zip_path, e.name));
    // libzip converts names not flagged UTF-8 from CP437; the stored bytes must pass too.
    if (const char* raw = zip_get_name(z.get(), i, ZIP_FL_ENC_RAW); raw && e.name != raw)
      VQI_RETURN_IF_ERROR(CheckName(zip_path, raw));
    auto bad = [&](const std::string& why) {
      return InvalidArgument(zip_path + ": entry '" + e.name + "': " + why);
    };
    e.directory = e.name.back() == '/';
    if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
      return bad("the entry is encrypted");
    zip_uint8_t opsys = 0;
    zip_uint32_t attr = 0;
    if (zip_file_get_external_attributes(z.get(), i, 0, &opsys, &attr) == 0 &&
        opsys == ZIP_OPSYS_UNIX && (attr >> 16) != 0) {
      const mode_t mode = attr >> 16;
      if (S_ISLNK(mode)) return bad("is a symbolic link; archives may hold only files and folders");
      if (!S_ISREG(mode) && !S_ISDIR(mode))
        return bad("is a special file (device, pipe or socket)");
      if (S_ISDIR(mode)) e.directory = true;
      e.executable = (mode & 0111) != 0;
    }
    e.size = (st.valid & ZIP_STAT_SIZE) ? st.size : 0;
    if (e.directory && e.size != 0) return bad("a folder entry with content");
    total += e.size;
    if (total > limits.max_uncompressed_bytes || total < e.size)
      return ResourceExhausted(
          zip_path + ": entry '" + e.name + "': the entries unpack to more than " +
          std::to_string(limits.max_uncompressed_bytes) + " bytes (docs/limits.md)");
    std::string path = e.name;
    if (path.back() == '/') path.pop_back();
    if (files.count(path) || (!e.directory && dirs.count(path)) ||
        (e.directory && files.count(path)))
      return bad("another entry has the same path");
    for (size_t slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      const std::string parent = path.substr(0, slash);
      if (files.count(parent))
        return bad("'" + parent + "' is a file in this archive, not a folder");
      dirs.insert(parent);
    }
    (e.directory ? dirs : files).insert(path);
    out.push_back(std::move(e));
  }
  return out;
}

Status ExtractZip(const std::string& zip_path, const std::string& dest_dir,
                  const ZipLimits& limits) {
  namespace fs = std::filesystem;
  VQI_ASSIGN_OR_RETURN(std::vector<ZipEntry> entries, CheckZipEntries(zip_path, limits));
  std::error_code ec;
  if (fs::exists(dest_dir, ec)) return AlreadyExists(dest_dir + ": already exists");
  static std::atomic<int> counter{0};
  const std::string tmp =
      dest_dir + ".tmp-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  const fs::path parent = fs::path(dest_dir).parent_path();
  if (!parent.empty()) VQI_RETURN_IF_ERROR(MakeDirs(parent.string()));
  if (!fs::create_directory(tmp, ec))
    return Unavailable(tmp + ": cannot create folder: " + ec.message());
  auto extract = [&]() -> Status {
    VQI_ASSIGN_OR_RETURN(ZipPtr z, Open(zip_path));
    uint64_t total = 0;
    std::vector<char> buf(1 << 16);
    for (size_t i = 0; i < entries.size(); ++i) {
      const ZipEntry& e = entries[i];
      const fs::path target = fs::path(tmp) / e.name;
      if (e.directory) {
        fs::create_directories(target, ec);
        if (ec) return Unavailable(target.string() + ": " + ec.message());
        continue;
      }
      fs::create_directories(target.parent_path(), ec);
      if (ec) return Unavailable(target.parent_path().string() + ": " + ec.message());
      const int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                            e.executable ? 0755 : 0644);
      if (fd < 0) return Unavailable(target.string() + ": cannot create: " + strerror(errno));
      zip_file_t* zf = zip_fopen_index(z.get(), i, 0);
      if (!zf) {
        ::close(fd);
        return DataLoss(zip_path + ": entry '" + e.name + "': " + zip_strerror(z.get()));
      }
      uint64_t written = 0;
      Status st;
      for (;;) {
        const zip_int64_t got = zip_fread(zf, buf.data(), buf.size());
        if (got < 0) {
          st = DataLoss(zip_path + ": entry '" + e.name + "': " + zip_file_strerror(zf));
          break;
        }
        if (got == 0) break;
        written += got;
        total += got;
        if (written > e.size || total > limits.max_uncompressed_bytes) {
          st = ResourceExhausted(zip_path + ": entry '" + e.name +
                                 "' unpacks to more bytes than its header declares or than the "
                                 "limit of " +
                                 std::to_string(limits.max_uncompressed_bytes) +
                                 " (docs/limits.md)");
          break;
        }
        if (::write(fd, buf.data(), got) != got) {
          st = Unavailable(target.string() + ": write failed: " + strerror(errno));
          break;
        }
      }
      zip_fclose(zf);
      if (st.ok() && ::fsync(fd) != 0) st = Unavailable(target.string() + ": fsync failed");
      ::close(fd);
      if (!st.ok()) return st;
      if (written != e.size)
        return DataLoss(zip_path + ": entry '" + e.name + "' unpacked to " +
                        std::to_string(written) + " bytes, its header declares " +
                        std::to_string(e.size));
    }
    if (::rename(tmp.c_str(), dest_dir.c_str()) != 0)
      return Unavailable(dest_dir +
                         ": cannot rename the extracted folder into place: " + strerror(errno));
    // The rename is durable once the parent folder is synced.
    const std::string dir = parent.empty() ? "." : parent.string();
    if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
    return Status::Ok();
  };
  Status st = extract();
  if (!st.ok()) fs::remove_all(tmp, ec);
  return st;
}

}  // namespace vqi::component
