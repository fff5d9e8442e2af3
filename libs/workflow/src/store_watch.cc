#include "store_watch.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace vqi::workflow {

Result<std::unique_ptr<StoreWatch>> StoreWatch::Open(const std::string& db_path) {
  namespace fs = std::filesystem;
  const fs::path p = fs::absolute(fs::path(db_path));
  const std::string dir = p.parent_path().string();
  const int in = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (in < 0) return Unavailable("inotify_init1: " + std::string(std::strerror(errno)));
  if (::inotify_add_watch(in, dir.c_str(), IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
    const int e = errno;
    ::close(in);
    return Unavailable("inotify_add_watch " + dir + ": " + std::strerror(e));
  }
  const int ev = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (ev < 0) {
    const int e = errno;
    ::close(in);
    return Unavailable("eventfd: " + std::string(std::strerror(e)));
  }
  return std::unique_ptr<StoreWatch>(new StoreWatch(in, ev, p.filename().string()));
}

StoreWatch::~StoreWatch() {
  ::close(inotify_fd_);
  ::close(event_fd_);
}

void StoreWatch::Interrupt() {
  const uint64_t one = 1;
  (void)!::write(event_fd_, &one, sizeof one);
}

bool StoreWatch::Drain() {
  alignas(struct inotify_event) char buf[4096];
  bool ours = false;
  for (;;) {
    const ssize_t n = ::read(inotify_fd_, buf, sizeof buf);
    if (n <= 0) return ours;  // EAGAIN: drained
    for (ssize_t off = 0; off < n;) {
      const auto* e = reinterpret_cast<const struct inotify_event*>(buf + off);
      if (e->mask & IN_Q_OVERFLOW) ours = true;  // events were lost: assume a change
      if (e->len > 0) {
        const std::string_view name(e->name);
        if (name.substr(0, base_.size()) == base_) {
          const std::string_view rest = name.substr(base_.size());
          if (rest.empty() || rest == "-wal" || rest == "-journal") ours = true;
        }
      }
      off += static_cast<ssize_t>(sizeof(struct inotify_event) + e->len);
    }
  }
}

bool StoreWatch::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) return false;
    struct pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {event_fd_, POLLIN, 0}};
    const int n = ::poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) return false;
    if (n <= 0) continue;  // EINTR, or timed out (left is then < 0 on the next turn)
    if (fds[1].revents & POLLIN) {
      uint64_t count;
      (void)!::read(event_fd_, &count, sizeof count);
      Drain();
      return true;
    }
    if ((fds[0].revents & POLLIN) && Drain()) return true;
    // Only other files of the directory changed: keep waiting.
  }
}

}  // namespace vqi::workflow
