#include "vqi/base/system.h"

#include <sched.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

namespace vqi {

int HardwareThreads() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return n;
  }
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? static_cast<int>(n) : 1;
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
