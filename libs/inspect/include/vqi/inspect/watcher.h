// New complete files in one folder, in arrival order: inotify IN_CLOSE_WRITE (a writer closed
// the file) and IN_MOVED_TO (renamed in), plus a scan of what is already there when the watch
// starts. A scanned file younger than the settle time is handed out only once its size and mtime
// stayed unchanged that long (or its IN_CLOSE_WRITE arrives), so a writer that was still busy
// when we started is not read half-written. Hidden names (".x"), "*.tmp", "*.part" and
// "*.tmp-*" (temporary names of atomic writers) are never handed out; neither are subfolders.
//
// The watcher does not remember what was inspected (ProcessedJournal does): a name can come out
// twice (written twice), and the caller skips what its journal holds.
//
// Thread-compatible; Next() blocks.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "vqi/base/clock.h"
#include "vqi/base/status.h"

namespace vqi::inspect {

// True for names the watcher never hands out.
bool IsIgnoredName(const std::string& name);

class DirectoryWatcher {
 public:
  // NotFound / InvalidArgument when `dir` is missing or not a folder; Unavailable when inotify
  // cannot be set up (e.g. the per-user watch limit).
  static Result<std::unique_ptr<DirectoryWatcher>> Open(const std::string& dir,
                                                        double settle_seconds, Clock& clock);
  ~DirectoryWatcher();

  // The next ready file name, waiting up to `timeout_ms`; nullopt on timeout or when *cancel
  // becomes true. Unavailable when the folder itself was deleted or moved.
  Result<std::optional<std::string>> Next(int timeout_ms, const std::atomic<bool>* cancel);
  const std::string& dir() const { return dir_; }
  // When the name last returned by Next() became ready (clock milliseconds).
  int64_t LastReadyMs() const { return last_ready_ms_; }
  // Files waiting to settle (start-up scan) plus files ready but not yet handed out.
  size_t Backlog() const { return ready_.size() + pending_.size(); }

 private:
  struct Pending {
    int64_t size = 0, mtime_ns = 0, since_ms = 0;
    int64_t first_ms = 0;  // when the scan found it
  };
  DirectoryWatcher(std::string dir, int fd, int64_t settle_ms, Clock& clock)
      : dir_(std::move(dir)), fd_(fd), settle_ms_(settle_ms), clock_(clock) {}
  Status Scan();
  Status Drain();  // reads the events waiting on the inotify descriptor
  void PromoteSettled();
  void MakeReady(const std::string& name);
  // Queued behind the other scanned files, ahead of those seen by inotify after the scan.
  void MakeScannedReady(const std::string& name, int64_t now_ms);
  // True while a scanned file is settling (for at most 4 settle times) and the next ready file
  // came after the scan: it waits, so files are handed out in arrival order across a restart.
  bool HoldForSettling(int64_t now_ms) const;

  std::string dir_;
  int fd_;
  int64_t settle_ms_;
  Clock& clock_;
  bool gone_ = false;
  std::deque<std::pair<std::string, int64_t>> ready_;  // name, when it became ready
  size_t scanned_in_ready_ = 0;  // ready_'s first entries that came from the scan
  int64_t last_ready_ms_ = 0;
  std::set<std::string> queued_;  // names in ready_
  std::map<std::string, Pending> pending_;
};

}  // namespace vqi::inspect
