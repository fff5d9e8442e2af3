// Blocks until another process commits to a store file, without polling: an inotify watch on
// the store's directory (a WAL commit writes `<db>-wal`, a checkpoint or rollback-journal
// commit writes `<db>`), plus an eventfd so the owner can wake the waiter in-process.
//
// A wake means "the file may have changed": callers re-read what they wait for, and always pass
// a timeout, so a missed or coalesced event costs at most that timeout, never correctness.
// Thread-compatibility: one thread calls Wait(); Interrupt() may be called from any thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "vqi/base/status.h"

namespace vqi::workflow {

class StoreWatch {
 public:
  // Unavailable if inotify cannot be used (e.g. the per-user watch limit is reached).
  static Result<std::unique_ptr<StoreWatch>> Open(const std::string& db_path);
  ~StoreWatch();
  StoreWatch(const StoreWatch&) = delete;
  StoreWatch& operator=(const StoreWatch&) = delete;

  // Waits up to `timeout` for a write to the store file or its -wal/-journal, or Interrupt().
  // Returns true when woken by a write or an interrupt (all pending events are consumed).
  bool Wait(std::chrono::milliseconds timeout);
  // Wakes the current (or next) Wait() at once.
  void Interrupt();

 private:
  StoreWatch(int inotify_fd, int event_fd, std::string base)
      : inotify_fd_(inotify_fd), event_fd_(event_fd), base_(std::move(base)) {}
  bool Drain();  // true if an event named the store's files
  int inotify_fd_;
  int event_fd_;
  std::string base_;  // file name of the database, e.g. "store.db"
};

}  // namespace vqi::workflow
