// ParseResultMessage: the valid result, and each kind of refusal with its code.
#include "vqi/results/result_message.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace vqi::results {
namespace {

using testing::ResultDoc;
using testing::Topic;

TEST(ResultMessage, ParsesAValidResult) {
  const std::string payload = ResultDoc("cam-1", 7, "fail", 12.5).dump();
  auto r = ParseResultMessage(Topic("cam-1"), payload);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->thing, "cam-1");
  EXPECT_EQ(r->component, "vqi.inspect");
  EXPECT_EQ(r->id, "cam-1:" + testing::ImageId(7));
  EXPECT_EQ(r->verdict, "fail");
  EXPECT_FALSE(r->uncertain);
  EXPECT_EQ(r->model_name, "tags");
  EXPECT_EQ(r->model_version, "1.2.0");
  EXPECT_EQ(r->image_name, "img7.jpg");
  EXPECT_DOUBLE_EQ(r->model_ms, 12.5);
  EXPECT_DOUBLE_EQ(r->total_ms, 14.5);
  EXPECT_EQ(r->payload, payload);
  EXPECT_EQ(ThingOfTopic(Topic("cam-1")), "cam-1");
  EXPECT_EQ(ThingOfTopic("vqi/v1/things/cam-1/status"), "");
}

StatusCode CodeOf(const std::string& topic, const std::string& payload, size_t max = 65536) {
  return ParseResultMessage(topic, payload, max).status().code();
}

TEST(ResultMessage, RefusesGarbage) {
  const std::string t = Topic("cam-1");
  EXPECT_EQ(CodeOf(t, "not json"), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(t, "[1,2]"), StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf(t, std::string(1000, '[') + std::string(1000, ']')),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf("vqi/v1/things/cam-1/status", ResultDoc("cam-1", 1).dump()),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CodeOf("vqi/v1/results/cam-1", ResultDoc("cam-1", 1).dump()),
            StatusCode::kInvalidArgument);
  for (const char* field : {"schema", "id", "verdict"}) {
    Json j = ResultDoc("cam-1", 1);
    j.erase(field);
    EXPECT_EQ(CodeOf(t, j.dump()), StatusCode::kInvalidArgument) << field;
  }
  Json j = ResultDoc("cam-1", 1);
  j["verdict"] = "ok";
  auto st = ParseResultMessage(t, j.dump()).status();
  EXPECT_NE(st.message().find("accepted: pass, fail, error"), std::string::npos) << st.ToString();
  j = ResultDoc("cam-1", 1);
  j["id"] = "cam-1:XYZ";
  EXPECT_EQ(CodeOf(t, j.dump()), StatusCode::kInvalidArgument);
  j = ResultDoc("cam-1", 1);
  j["timings_ms"]["model"] = -3;
  EXPECT_EQ(CodeOf(t, j.dump()), StatusCode::kInvalidArgument);
  j = ResultDoc("cam-1", 1);
  j["uncertain"] = "yes";
  EXPECT_EQ(CodeOf(t, j.dump()), StatusCode::kInvalidArgument);
  j = ResultDoc("cam-1", 1);
  j["model"]["name"] = std::string(300, 'm');
  EXPECT_EQ(CodeOf(t, j.dump()), StatusCode::kInvalidArgument);
}

TEST(ResultMessage, RefusesAnotherThingsResult) {
  // cam-2 may publish only on its own topic (broker ACL); a payload naming cam-1 is refused.
  auto st = ParseResultMessage(Topic("cam-2"), ResultDoc("cam-1", 1).dump()).status();
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(st.message().find("cam-2"), std::string::npos);
  Json j = ResultDoc("cam-2", 1);
  j["id"] = "cam-1:" + testing::ImageId(1);  // an id of another thing
  EXPECT_EQ(CodeOf(Topic("cam-2"), j.dump()), StatusCode::kPermissionDenied);
  EXPECT_EQ(CodeOf(Topic("cam-1", "other.comp"), ResultDoc("cam-1", 1).dump()),
            StatusCode::kPermissionDenied);
}

TEST(ResultMessage, RefusesOversizedBeforeParsing) {
  const std::string payload = ResultDoc("cam-1", 1).dump();
  EXPECT_EQ(CodeOf(Topic("cam-1"), payload, payload.size()), StatusCode::kOk);
  auto st = ParseResultMessage(Topic("cam-1"), payload, payload.size() - 1).status();
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(st.message().find("the limit is"), std::string::npos);
}

}  // namespace
}  // namespace vqi::results
