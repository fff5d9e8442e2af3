// One free loopback TCP port for tests that start a server process (broker, `vqi server`,
// agents). Header-only: every test target links vqi::base.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <ctime>
#include <mutex>

namespace vqi::testing {

// A loopback TCP port that was free a moment ago, chosen below the kernel's ephemeral range
// (32768–60999 by default): a port the kernel picks for port 0 is also one it hands to outgoing
// connections, and one of those (any process's) took a server's port between the choice and the
// server's bind in a CI run. Random in [20000, 32768) (seeded by pid and time, so parallel test
// processes spread out), checked by binding; the kernel's choice only if 200 tries all fail;
// 0 if even that fails.
inline int FreeLoopbackPort() {
  static std::mutex mu;
  static unsigned state =
      static_cast<unsigned>(::getpid()) * 2654435761u ^ static_cast<unsigned>(::time(nullptr));
  std::lock_guard lock(mu);
  for (int attempt = 0; attempt <= 200; ++attempt) {
    state = state * 1103515245u + 12345u;
    const int want = attempt < 200 ? 20000 + static_cast<int>((state >> 8) % 12768) : 0;
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(want));
    socklen_t len = sizeof a;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
      port = ntohs(a.sin_port);
    ::close(fd);
    if (port != 0) return port;
  }
  return 0;
}

}  // namespace vqi::testing
