#include "vqi/base/json.h"

#include <gtest/gtest.h>

#include <string>

namespace vqi {
namespace {

std::string Nested(int depth, char open, char close) {
  return std::string(depth, open) + std::string(depth, close);
}

TEST(JsonTest, AcceptsNestingUpToTheLimit) {
  auto j = ParseJson(Nested(kMaxJsonDepth, '[', ']'));
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ(JsonDepth(*j), kMaxJsonDepth);
}

TEST(JsonTest, RefusesDeeperNestingWithResourceExhausted) {
  // A hostile input a million levels deep: refused before parsing, no stack overflow.
  for (const std::string& text :
       {Nested(kMaxJsonDepth + 1, '[', ']'), Nested(1000000, '[', ']'),
        std::string(500000, '[') + "{\"a\":" + std::string(500000, '[')}) {
    auto j = ParseJson(text, "payload.json");
    ASSERT_FALSE(j.ok());
    EXPECT_EQ(j.status().code(), StatusCode::kResourceExhausted);
    EXPECT_NE(j.status().message().find("payload.json: JSON nested deeper than 128"),
              std::string::npos)
        << j.status().message();
  }
}

TEST(JsonTest, BracketsInsideStringsDoNotCount) {
  std::string text = "{\"a\": \"" + std::string(1000, '[') + "\\\"" + std::string(1000, '{') + "\"}";
  auto j = ParseJson(text);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ(JsonDepth(*j), 1);
}

TEST(JsonTest, MalformedJsonStillNamesTheByte) {
  auto j = ParseJson("{\"a\": [1, 2", "x.json");
  ASSERT_FALSE(j.ok());
  EXPECT_EQ(j.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(j.status().message().find("x.json: malformed JSON at byte"), std::string::npos);
}

TEST(JsonTest, JsonDepthOfBuiltValuesStopsAtTheCap) {
  Json v = 1;
  for (int i = 0; i < 1000; ++i) v = Json::array({v});
  EXPECT_EQ(JsonDepth(v, 10), 11);
  EXPECT_EQ(JsonDepth(Json(3)), 0);
  EXPECT_EQ(JsonDepth(Json::object()), 1);
}

}  // namespace
}  // namespace vqi
