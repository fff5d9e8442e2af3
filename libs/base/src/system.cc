#include "vqi/base/system.h"

#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <thread>

namespace vqi {

int HardwareThreads() {
  int n = 0;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) n = CPU_COUNT(&set);
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  return std::clamp(n, 1, kMaxThreads);
}

Status CheckThreadCount(int n, const std::string& what) {
  const std::string range = "[1, " + std::to_string(kMaxThreads) + "]";
  if (n > kMaxThreads)
    return ResourceExhausted(what + ": " + std::to_string(n) + " is out of range " + range);
  if (n < 1) return InvalidArgument(what + ": " + std::to_string(n) + " is out of range " + range);
  return Status::Ok();
}

std::string ResolveHome(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("VQI_HOME"); env && *env) return env;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.vqi";
}

std::string SharedDir() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("VQI_SHARED_DIR"); env && *env) {
    if (fs::is_directory(env)) return fs::canonical(env).string();
    return "";
  }
#ifdef VQI_SOURCE_DIR
  fs::path p = fs::path(VQI_SOURCE_DIR) / ".." / "shared";
  if (fs::is_directory(p)) return fs::canonical(p).string();
#endif
  return "";
}

}  // namespace vqi
