// End-to-end: the vqi binary's global behaviour.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

struct CmdResult {
  int code;
  std::string out;
};

CmdResult Vqi(const std::string& args) {
  std::string cmd = std::string(std::getenv("VQI_BIN")) + " " + args + " 2>&1";
  CmdResult r{0, ""};
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

TEST(CliTest, VersionAndUnknownCommand) {
  CmdResult v = Vqi("--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_NE(v.out.find("vqi 0.1.0"), std::string::npos);
  CmdResult bad = Vqi("no-such-noun");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.out.find("--help"), std::string::npos) << bad.out;
}

}  // namespace
