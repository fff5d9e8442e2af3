// End-to-end: the vqi binary's global behaviour.
#include <gtest/gtest.h>

#include <string>

#include "run_vqi.h"

namespace {

using vqi::testing::CmdResult;

CmdResult Vqi(const std::string& args) { return vqi::testing::RunVqi(args); }

TEST(CliTest, VersionAndUnknownCommand) {
  CmdResult v = Vqi("--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_NE(v.out.find("vqi 0.1.0"), std::string::npos);
  CmdResult bad = Vqi("no-such-noun");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.out.find("--help"), std::string::npos) << bad.out;
}

}  // namespace
