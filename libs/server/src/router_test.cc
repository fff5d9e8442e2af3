#include "router.h"

#include <gtest/gtest.h>

namespace vqi::server {
namespace {

Route R(const std::string& method, const std::string& pattern) {
  return Route{method, pattern, Access::kRead, Body::kNone, "t",
               "s",    200,     nullptr,       nullptr,     [](Call&) { return Status::Ok(); }};
}

TEST(RouterTest, PatternsBecomeAnchoredSegmentRegexes) {
  EXPECT_EQ(Router::PatternRegex("/v1/artifacts/{sha256}"), "/v1/artifacts/([^/]+)");
  EXPECT_EQ(Router::PatternRegex("/v1/openapi.json"), "/v1/openapi\\.json");
  EXPECT_EQ(Router::PatternParams("/v1/models/{group}/versions/{n}"),
            (std::vector<std::string>{"group", "n"}));
}

TEST(RouterTest, FindMatchesMethodAndPath) {
  Router r;
  r.Add(R("GET", "/v1/models/{group}/versions"));
  r.Add(R("POST", "/v1/models/{group}/versions"));
  r.Add(R("GET", "/v1/models/{group}/versions/{n}"));
  auto m = r.Find("GET", "/v1/models/tags/versions/3");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/v1/models/{group}/versions/{n}");
  EXPECT_EQ(m.params["group"], "tags");
  EXPECT_EQ(m.params["n"], "3");
  m = r.Find("POST", "/v1/models/tags/versions");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->method, "POST");
  m = r.Find("HEAD", "/v1/models/tags/versions");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->method, "GET");
}

TEST(RouterTest, UnknownPathVersusUnknownMethod) {
  Router r;
  r.Add(R("GET", "/v1/openapi.json"));
  auto m = r.Find("DELETE", "/v1/openapi.json");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_TRUE(m.path_known);
  m = r.Find("GET", "/v1/openapiXjson");  // the dot is literal
  EXPECT_EQ(m.route, nullptr);
  EXPECT_FALSE(m.path_known);
  m = r.Find("GET", "/v1/openapi.json/extra");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_FALSE(m.path_known);
}

TEST(RouterTest, ParametersDoNotCrossSegments) {
  Router r;
  r.Add(R("GET", "/v1/artifacts/{sha256}"));
  EXPECT_EQ(r.Find("GET", "/v1/artifacts/a/b").route, nullptr);
  EXPECT_EQ(r.Find("GET", "/v1/artifacts/").route, nullptr);
  EXPECT_NE(r.Find("GET", "/v1/artifacts/abc").route, nullptr);
}

}  // namespace
}  // namespace vqi::server
