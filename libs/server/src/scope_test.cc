#include "vqi/server/scope.h"

#include <gtest/gtest.h>

namespace vqi::server {
namespace {

TEST(ScopeTest, ParseRoundTripAndRefusal) {
  for (Scope s : {Scope::kRead, Scope::kWrite, Scope::kAdmin, Scope::kDevice}) {
    auto p = ParseScope(ScopeName(s));
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(*p, s);
  }
  auto bad = ParseScope("root");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("read, write, admin, device"), std::string::npos);
  EXPECT_FALSE(ParseScope("READ").ok());
  EXPECT_FALSE(ParseScope("").ok());
}

TEST(ScopeTest, AdminImpliesWriteImpliesRead) {
  EXPECT_TRUE(Allows(Scope::kAdmin, Access::kAdmin));
  EXPECT_TRUE(Allows(Scope::kAdmin, Access::kWrite));
  EXPECT_TRUE(Allows(Scope::kAdmin, Access::kRead));
  EXPECT_FALSE(Allows(Scope::kWrite, Access::kAdmin));
  EXPECT_TRUE(Allows(Scope::kWrite, Access::kWrite));
  EXPECT_TRUE(Allows(Scope::kWrite, Access::kRead));
  EXPECT_FALSE(Allows(Scope::kRead, Access::kAdmin));
  EXPECT_FALSE(Allows(Scope::kRead, Access::kWrite));
  EXPECT_TRUE(Allows(Scope::kRead, Access::kRead));
}

TEST(ScopeTest, DeviceReadsArtifactsAndComponentsOnly) {
  EXPECT_TRUE(Allows(Scope::kDevice, Access::kReadOrDevice));
  EXPECT_FALSE(Allows(Scope::kDevice, Access::kRead));
  EXPECT_FALSE(Allows(Scope::kDevice, Access::kWrite));
  EXPECT_FALSE(Allows(Scope::kDevice, Access::kAdmin));
  for (Scope s : {Scope::kRead, Scope::kWrite, Scope::kAdmin})
    EXPECT_TRUE(Allows(s, Access::kReadOrDevice)) << ScopeName(s);
}

TEST(ScopeTest, PublicNeedsNothing) {
  for (Scope s : {Scope::kRead, Scope::kWrite, Scope::kAdmin, Scope::kDevice})
    EXPECT_TRUE(Allows(s, Access::kPublic));
}

}  // namespace
}  // namespace vqi::server
