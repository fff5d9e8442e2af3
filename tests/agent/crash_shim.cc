// LD_PRELOAD shim for the crash campaign: kills `vqi-agent run` with SIGKILL at its N-th
// file-system mutation under the agent root — exactly at the boundaries the durable state is
// made of (temporary file created, renamed into place, inbox/in-flight unlinked, install
// folders made, copied, renamed, removed), before or after the call. Counted: open/openat with
// O_CREAT, rename, unlink, remove, mkdir, whose path contains VQI_CRASH_ROOT, except status.json
// (written at timing-dependent ticks) and logs/ (opened per process start, restarts are
// timed); so the count is the same on every run of the same deployment.
//
// Environment (read once, then removed so the components' shells do not inherit it):
//   VQI_CRASH_AT_CALL=N  VQI_CRASH_WHEN=before|after  VQI_CRASH_ROOT=<root>
//   or, instead of N, VQI_CRASH_AT_OP=<op> VQI_CRASH_AT_PATH=<s>: the first counted call of
//   that op (open, rename, unlink, remove, rmdir, mkdir) whose path contains <s>
//   VQI_CRASH_TRACE=<file>  (appends "N op path when" of the fatal call; "count N" is not
//   written — the process dies)
//   VQI_CRASH_AT_FORK=N  VQI_CRASH_CHILD_DELAY_MS=D: at the N-th fork the agent dies right
//   after fork returns, and the child waits D ms once it has closed its inherited descriptors
//   (close_range: the agent lock is released) before it goes on towards its exec.
// Active only in `vqi-agent run`; it removes the variables there, so components never see them.
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <initializer_list>

namespace {

long g_at = 0;  // 0: inactive (or -1: by op and path path_part)
char g_op[32];
char g_path[4096];
bool g_after = false;
long g_count = 0;
char g_root[4096];
char g_trace[4096];
long g_fork_at = 0, g_fork_count = 0, g_child_delay_ms = 0;
bool g_held_child = false;

template <class F>
F Real(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

// True in `vqi-agent run ...` (not in its shells, nor in `vqi-agent deploy|status`).
bool IsAgentDaemon() {
  if (strcmp(program_invocation_short_name, "vqi-agent") != 0) return false;
  char buf[256] = {};
  using OpenFn = int (*)(const char*, int, ...);
  const int fd = Real<OpenFn>("open")("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  const size_t first = strnlen(buf, sizeof buf);
  return n > 0 && first + 1 < static_cast<size_t>(n) && strcmp(buf + first + 1, "run") == 0;
}

__attribute__((constructor)) void Init() {
  if (!IsAgentDaemon()) return;  // the variables pass on to the daemon through shells
  if (const char* f = getenv("VQI_CRASH_AT_FORK")) g_fork_at = atol(f);
  if (const char* d = getenv("VQI_CRASH_CHILD_DELAY_MS")) g_child_delay_ms = atol(d);
  const char* at = getenv("VQI_CRASH_AT_CALL");
  const char* root = getenv("VQI_CRASH_ROOT");
  const char* op = getenv("VQI_CRASH_AT_OP");
  const char* path_part = getenv("VQI_CRASH_AT_PATH");
  if ((at || (op && path_part)) && root) {
    g_at = at ? atol(at) : -1;
    snprintf(g_op, sizeof g_op, "%s", op ? op : "");
    snprintf(g_path, sizeof g_path, "%s", path_part ? path_part : "");
    const char* when = getenv("VQI_CRASH_WHEN");
    g_after = when && strcmp(when, "after") == 0;
    snprintf(g_root, sizeof g_root, "%s", root);
    const char* trace = getenv("VQI_CRASH_TRACE");
    snprintf(g_trace, sizeof g_trace, "%s", trace ? trace : "");
  }
  for (const char* v : {"LD_PRELOAD", "VQI_CRASH_AT_FORK", "VQI_CRASH_CHILD_DELAY_MS",
                        "VQI_CRASH_AT_CALL", "VQI_CRASH_AT_OP", "VQI_CRASH_AT_PATH",
                        "VQI_CRASH_WHEN", "VQI_CRASH_ROOT", "VQI_CRASH_TRACE"})
    unsetenv(v);
}

bool Counted(const char* path) {
  return g_at != 0 && path && strstr(path, g_root) && !strstr(path, "status.json") &&
         !strstr(path, "/logs/");
}

void Die(const char* op, const char* path, bool after) {
  if (g_trace[0]) {
    using OpenFn = int (*)(const char*, int, ...);
    static OpenFn real_open = Real<OpenFn>("open");
    int fd = real_open(g_trace, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      char line[8300];
      const int n = snprintf(line, sizeof line, "%ld %s %s %s\n", g_count, op, path,
                             after ? "after" : "before");
      if (n > 0) (void)!write(fd, line, static_cast<size_t>(n));
      close(fd);
    }
  }
  raise(SIGKILL);
}

// Runs `call` (returning int) with the count and the kill around it.
template <class Call>
int Around(const char* op, const char* path, Call call) {
  if (!Counted(path)) return call();
  const long n = ++g_count;
  const bool hit = g_at > 0 ? n == g_at : strcmp(op, g_op) == 0 && strstr(path, g_path);
  if (hit && !g_after) Die(op, path, false);
  const int r = call();
  if (hit && g_after) {
    const int saved = errno;
    Die(op, path, true);
    errno = saved;
  }
  return r;
}

}  // namespace

extern "C" {

pid_t fork() {
  using Fn = pid_t (*)();
  static Fn real = Real<Fn>("fork");
  const bool hit = g_fork_at > 0 && ++g_fork_count == g_fork_at;
  const pid_t pid = real();
  if (hit && pid == 0) {
    g_fork_at = 0;
    g_held_child = true;
  } else if (hit && pid > 0) {
    Die("fork", "-", true);
  }
  return pid;
}

int close_range(unsigned first, unsigned last, int flags) {
  using Fn = int (*)(unsigned, unsigned, int);
  static Fn real = Real<Fn>("close_range");
  const int r = real(first, last, flags);
  if (g_held_child && g_child_delay_ms > 0)
    usleep(static_cast<useconds_t>(g_child_delay_ms) * 1000);
  return r;
}

int open(const char* path, int flags, ...) {
  using Fn = int (*)(const char*, int, ...);
  static Fn real = Real<Fn>("open");
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = static_cast<mode_t>(va_arg(ap, int));
    va_end(ap);
  }
  if (!(flags & O_CREAT)) return real(path, flags, mode);
  return Around("open", path, [&] { return real(path, flags, mode); });
}

int open64(const char* path, int flags, ...) {
  using Fn = int (*)(const char*, int, ...);
  static Fn real = Real<Fn>("open64");
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = static_cast<mode_t>(va_arg(ap, int));
    va_end(ap);
  }
  if (!(flags & O_CREAT)) return real(path, flags, mode);
  return Around("open", path, [&] { return real(path, flags, mode); });
}

int openat(int dirfd, const char* path, int flags, ...) {
  using Fn = int (*)(int, const char*, int, ...);
  static Fn real = Real<Fn>("openat");
  mode_t mode = 0;
  if (flags & (O_CREAT | O_TMPFILE)) {
    va_list ap;
    va_start(ap, flags);
    mode = static_cast<mode_t>(va_arg(ap, int));
    va_end(ap);
  }
  if (!(flags & O_CREAT)) return real(dirfd, path, flags, mode);
  return Around("openat", path, [&] { return real(dirfd, path, flags, mode); });
}

int rename(const char* from, const char* to) {
  using Fn = int (*)(const char*, const char*);
  static Fn real = Real<Fn>("rename");
  return Around("rename", to, [&] { return real(from, to); });
}

int unlink(const char* path) {
  using Fn = int (*)(const char*);
  static Fn real = Real<Fn>("unlink");
  return Around("unlink", path, [&] { return real(path); });
}

int remove(const char* path) {
  using Fn = int (*)(const char*);
  static Fn real = Real<Fn>("remove");
  return Around("remove", path, [&] { return real(path); });
}

int rmdir(const char* path) {
  using Fn = int (*)(const char*);
  static Fn real = Real<Fn>("rmdir");
  return Around("rmdir", path, [&] { return real(path); });
}

int mkdir(const char* path, mode_t mode) {
  using Fn = int (*)(const char*, mode_t);
  static Fn real = Real<Fn>("mkdir");
  return Around("mkdir", path, [&] { return real(path, mode); });
}

}  // extern "C"
