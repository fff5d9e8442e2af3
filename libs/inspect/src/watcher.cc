#include "vqi/inspect/watcher.h"

#include <dirent.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "vqi/base/log.h"
#include "vqi/inspect/journal.h"

namespace vqi::inspect {
namespace {

bool EndsWith(const std::string& s, const char* suffix) {
  const size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

constexpr uint32_t kMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF;

}  // namespace

bool IsIgnoredName(const std::string& name) {
  // "x.tmp-<pid>": WriteFileAtomic's temporary name (renamed into place when complete).
  return name.empty() || name[0] == '.' || EndsWith(name, ".tmp") || EndsWith(name, ".part") ||
         name.find(".tmp-") != std::string::npos;
}

Result<std::unique_ptr<DirectoryWatcher>> DirectoryWatcher::Open(const std::string& dir,
                                                                 double settle_seconds,
                                                                 Clock& clock) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0)
    return NotFound("ImageDirectory " + dir + ": " + std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) return InvalidArgument("ImageDirectory " + dir + ": not a folder");
  const int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd < 0) return Unavailable("inotify_init1: " + std::string(std::strerror(errno)));
  if (::inotify_add_watch(fd, dir.c_str(), kMask | IN_ONLYDIR) < 0) {
    const int e = errno;
    ::close(fd);
    return Unavailable("inotify_add_watch " + dir + ": " + std::strerror(e) +
                       (e == ENOSPC ? " (fs.inotify.max_user_watches reached)" : ""));
  }
  std::unique_ptr<DirectoryWatcher> w(
      new DirectoryWatcher(dir, fd, static_cast<int64_t>(settle_seconds * 1000), clock));
  // The watch is in place before the scan: a file closed in between is seen by both, and the
  // caller's journal drops the second.
  VQI_RETURN_IF_ERROR(w->Scan());
  return w;
}

DirectoryWatcher::~DirectoryWatcher() { ::close(fd_); }

Status DirectoryWatcher::Scan() {
  DIR* d = ::opendir(dir_.c_str());
  if (!d) return Unavailable(dir_ + ": opendir: " + std::strerror(errno));
  struct Found {
    int64_t mtime_ns;
    std::string name;
    FileKey key;
  };
  std::vector<Found> found;
  while (struct dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (IsIgnoredName(name)) continue;
    auto key = StatKey(dir_, name);
    if (!key.ok()) continue;  // vanished, or not a regular file
    found.push_back({key->mtime_ns, name, *key});
  }
  ::closedir(d);
  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) {
    return a.mtime_ns != b.mtime_ns ? a.mtime_ns < b.mtime_ns : a.name < b.name;
  });
  const int64_t now_ms = clock_.NowMs();
  for (const Found& f : found) {
    const int64_t age_ms = now_ms - f.mtime_ns / 1000000;
    if (age_ms >= settle_ms_) {
      pending_.erase(f.name);
      MakeScannedReady(f.name, now_ms);
    } else {
      pending_[f.name] = {f.key.size, f.key.mtime_ns, now_ms, now_ms};
    }
  }
  return Status::Ok();
}

void DirectoryWatcher::MakeReady(const std::string& name) {
  pending_.erase(name);
  if (queued_.insert(name).second) ready_.emplace_back(name, clock_.NowMs());
}

void DirectoryWatcher::MakeScannedReady(const std::string& name, int64_t now_ms) {
  if (!queued_.insert(name).second) return;
  ready_.insert(ready_.begin() + static_cast<std::ptrdiff_t>(scanned_in_ready_), {name, now_ms});
  ++scanned_in_ready_;
}

bool DirectoryWatcher::HoldForSettling(int64_t now_ms) const {
  if (scanned_in_ready_ > 0) return false;
  for (const auto& [name, p] : pending_)
    if (now_ms - p.first_ms < 4 * settle_ms_) return true;
  return false;
}

void DirectoryWatcher::PromoteSettled() {
  const int64_t now_ms = clock_.NowMs();
  std::vector<std::pair<int64_t, std::string>> settled;  // mtime, name
  for (auto it = pending_.begin(); it != pending_.end();) {
    auto key = StatKey(dir_, it->first);
    if (!key.ok()) {
      it = pending_.erase(it);
      continue;
    }
    Pending& p = it->second;
    if (key->size != p.size || key->mtime_ns != p.mtime_ns) {
      p.size = key->size;  // still being written
      p.mtime_ns = key->mtime_ns;
      p.since_ms = now_ms;
      ++it;
    } else if (now_ms - p.since_ms >= settle_ms_) {
      settled.emplace_back(p.mtime_ns, it->first);
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  std::sort(settled.begin(), settled.end());  // oldest first, as the scan orders
  for (const auto& [mtime, name] : settled) MakeScannedReady(name, now_ms);
}

Status DirectoryWatcher::Drain() {
  alignas(struct inotify_event) char buf[16384];
  while (true) {
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return Status::Ok();
    if (n <= 0) return Unavailable(dir_ + ": reading inotify events: " + std::strerror(errno));
    for (char* p = buf; p < buf + n;) {
      auto* ev = reinterpret_cast<struct inotify_event*>(p);
      p += sizeof(struct inotify_event) + ev->len;
      if (ev->mask & IN_Q_OVERFLOW) {
        VQI_LOG_WARN("{}: inotify queue overflowed; rescanning the folder", dir_);
        VQI_RETURN_IF_ERROR(Scan());
        continue;
      }
      if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
        gone_ = true;
        continue;
      }
      if (ev->len == 0 || (ev->mask & IN_ISDIR)) continue;
      const std::string name = ev->name;
      if (IsIgnoredName(name)) continue;
      MakeReady(name);
    }
  }
}

Result<std::optional<std::string>> DirectoryWatcher::Next(int timeout_ms,
                                                          const std::atomic<bool>* cancel) {
  const int64_t deadline = clock_.NowMs() + timeout_ms;
  while (true) {
    VQI_RETURN_IF_ERROR(Drain());
    PromoteSettled();
    if (!ready_.empty() && !HoldForSettling(clock_.NowMs())) {
      std::string name = ready_.front().first;
      last_ready_ms_ = ready_.front().second;
      ready_.pop_front();
      if (scanned_in_ready_ > 0) --scanned_in_ready_;
      queued_.erase(name);
      return std::optional<std::string>(std::move(name));
    }
    if (gone_) return Unavailable("ImageDirectory " + dir_ + " was deleted or moved");
    if (cancel && cancel->load()) return std::optional<std::string>();
    const int64_t now = clock_.NowMs();
    if (now >= deadline) return std::optional<std::string>();
    // Wake for events, for the stop flag (every 50 ms) and for settling files.
    int wait = static_cast<int>(std::min<int64_t>(deadline - now, 50));
    struct pollfd pfd = {fd_, POLLIN, 0};
    ::poll(&pfd, 1, wait);
  }
}

}  // namespace vqi::inspect
