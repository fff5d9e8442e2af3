#include "vqi/inspect/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>
#include <vector>

#include "vqi/base/file.h"
#include "vqi/base/json.h"

namespace vqi::inspect {
namespace {

Result<FileKey> KeyFromJson(const Json& j) {
  if (!j.is_object() || !j.contains("n") || !j["n"].is_string() || !j.contains("i") ||
      !j["i"].is_number_unsigned() || !j.contains("s") || !j["s"].is_number_integer() ||
      !j.contains("m") || !j["m"].is_number_integer())
    return InvalidArgument("expected {\"n\": name, \"i\": inode, \"s\": size, \"m\": mtime_ns}");
  FileKey k;
  k.name = j["n"].get<std::string>();
  k.inode = j["i"].get<uint64_t>();
  k.size = j["s"].get<int64_t>();
  k.mtime_ns = j["m"].get<int64_t>();
  return k;
}

// No fdatasync: the journal only prevents repeats. A result is durable in its sink before its
// image is committed here, so losing the last commits (a power cut before the page cache was
// written back; a killed process loses nothing) re-inspects those images with the same ids —
// never loses one. Syncing here doubled the cost of every image (8 ms on the build machine).
Status WriteAll(int fd, const std::string& s, const std::string& path) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Unavailable(path + ": write: " + std::strerror(errno));
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

std::string FileKey::ToString() const {
  Json j = {{"n", name}, {"i", inode}, {"s", size}, {"m", mtime_ns}};
  return j.dump();
}

Result<FileKey> StatKey(const std::string& dir, const std::string& name) {
  const std::string path = dir + "/" + name;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return NotFound(path + ": no such file");
    return Unavailable(path + ": stat: " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return InvalidArgument(path + ": not a regular file");
  FileKey k;
  k.name = name;
  k.inode = st.st_ino;
  k.size = st.st_size;
  k.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
  return k;
}

Result<std::unique_ptr<ProcessedJournal>> ProcessedJournal::Open(const std::string& path,
                                                                 const std::string& image_dir) {
  std::vector<std::string> kept;
  if (FileExists(path)) {
    VQI_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    size_t pos = 0;
    int line_no = 0;
    while (pos < text.size()) {
      const size_t nl = text.find('\n', pos);
      ++line_no;
      if (nl == std::string::npos) break;  // torn last line: the commit never completed
      const std::string line = text.substr(pos, nl - pos);
      pos = nl + 1;
      // Zeros where a power cut left the file longer than its written data: not a commit.
      if (line.find_first_not_of('\0') == std::string::npos) continue;
      auto j = ParseJson(line, path + ":" + std::to_string(line_no));
      Result<FileKey> key = j.ok() ? KeyFromJson(*j) : Result<FileKey>(j.status());
      if (!key.ok())
        return DataLoss(path + ": line " + std::to_string(line_no) + " is not a journal entry (" +
                        key.status().message() +
                        "); refusing to guess which images were inspected");
      auto now = StatKey(image_dir, key->name);
      if (now.ok() && *now == *key) kept.push_back(key->ToString());
    }
    std::string rewritten;
    for (const std::string& k : kept) rewritten += k + "\n";
    VQI_RETURN_IF_ERROR(WriteFileAtomic(path, rewritten));
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Unavailable(path + ": open: " + std::strerror(errno));
  std::unique_ptr<ProcessedJournal> j(new ProcessedJournal(path, fd));
  j->keys_.insert(kept.begin(), kept.end());
  return j;
}

ProcessedJournal::~ProcessedJournal() {
  if (fd_ >= 0) ::close(fd_);
}

Status ProcessedJournal::Commit(const FileKey& key) {
  const std::string line = key.ToString();
  VQI_RETURN_IF_ERROR(WriteAll(fd_, line + "\n", path_));
  keys_.insert(line);
  return Status::Ok();
}

}  // namespace vqi::inspect
