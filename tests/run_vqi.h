// Shared by the end-to-end tests in tests/: runs the `vqi` binary named by $VQI_BIN (set by
// ctest) and captures what it prints.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace vqi::testing {

struct CmdResult {
  int code;         // exit status, -1 if the process did not exit normally
  std::string out;  // stdout and stderr, interleaved
};

// `$VQI_BIN <args> 2>&1`. REQUIRES: VQI_BIN is set.
inline CmdResult RunVqi(const std::string& args) {
  const std::string cmd = std::string(std::getenv("VQI_BIN")) + " " + args + " 2>&1";
  CmdResult r{-1, ""};
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace vqi::testing
