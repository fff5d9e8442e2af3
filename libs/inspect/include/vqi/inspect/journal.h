// The set of inspected files: what makes "never inspect an image twice, never skip one" survive
// a restart or a reload. One JSON line per committed image, appended (not synced: see Commit);
// compacted when opened (entries whose file is gone or changed are dropped).
//
// Thread-compatible.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_set>

#include "vqi/base/status.h"

namespace vqi::inspect {

// A file's identity in the camera folder: a new image renamed over an old name is new.
struct FileKey {
  std::string name;  // file name inside the folder (no '/')
  uint64_t inode = 0;
  int64_t size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const FileKey& o) const {
    return inode == o.inode && size == o.size && mtime_ns == o.mtime_ns && name == o.name;
  }
  std::string ToString() const;  // one canonical line (JSON), the journal's record
};

// stat() of dir/name: NotFound when missing, InvalidArgument when not a regular file.
Result<FileKey> StatKey(const std::string& dir, const std::string& name);

class ProcessedJournal {
 public:
  // Opens (creates) `path`, keeping only entries whose file in `image_dir` still has the same
  // key; the kept entries are rewritten atomically. A torn last line (a crash mid-append) is
  // dropped; any other malformed line is DataLoss naming the file and line number.
  static Result<std::unique_ptr<ProcessedJournal>> Open(const std::string& path,
                                                        const std::string& image_dir);
  ~ProcessedJournal();

  bool Contains(const FileKey& key) const { return keys_.count(key.ToString()) > 0; }
  // Appends; after OK the image counts as inspected. Not fdatasync'd: a killed process loses no
  // commit; a power cut may lose the last ones, and those images are inspected again (their
  // results carry the same id). Callers commit only after the result is durable elsewhere.
  Status Commit(const FileKey& key);
  size_t size() const { return keys_.size(); }
  const std::string& path() const { return path_; }

 private:
  ProcessedJournal(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_;
  std::unordered_set<std::string> keys_;
};

}  // namespace vqi::inspect
