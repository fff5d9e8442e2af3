#include "vqi/inspect/result.h"

#include <gtest/gtest.h>

namespace vqi::inspect {
namespace {

InspectResult Sample() {
  InspectResult r;
  r.thing = "t1";
  r.component = "vqi.inspect";
  r.topic = "vqi/v1/results/t1/vqi.inspect";
  r.model_name = "vqi.model.tags";
  r.model_version = "3";
  r.image_id = std::string(64, 'a');
  r.image_name = "img 1.jpg";
  r.width = 450;
  r.height = 300;
  r.timestamp_ms = 1796551200123;  // 2026-12-06T10:00:00.123Z
  r.verdict = Verdict::kFail;
  r.best_score = 0.876543f;
  r.score_threshold = 0.25f;
  r.class_names = {"scratch"};
  r.detections.push_back({10.12345f, 20.5f, 30.0004f, 40.9996f, 0.876543f, 0});
  return r;
}

TEST(ResultTest, EnvelopeCarriesOurFieldsAndAwsKeys) {
  const OrderedJson j = Sample().ToJson();
  EXPECT_EQ(j["schema"], "vqi.inspect.result/1");
  EXPECT_EQ(j["id"], "t1:" + std::string(64, 'a'));
  EXPECT_EQ(j["timestamp"], "2026-12-06T10:00:00.123Z");
  EXPECT_EQ(j["verdict"], "fail");
  EXPECT_EQ(j["model"]["version"], "3");
  EXPECT_EQ(j["image"]["name"], "img 1.jpg");
  ASSERT_EQ(j["detections"].size(), 1u);
  EXPECT_EQ(j["detections"][0]["class"], "scratch");
  EXPECT_DOUBLE_EQ(j["detections"][0]["confidence"].get<double>(), 0.87654);
  EXPECT_EQ(j["detections"][0]["box"].dump(), "[10.123,20.5,30.0,41.0]");
  EXPECT_FALSE(j.contains("error"));
  EXPECT_FALSE(j.contains("drift"));
  // AWS's sample components: timestamp, inference-type, inference-description, inference-results.
  EXPECT_EQ(j["image_name"], "img 1.jpg");
  EXPECT_EQ(j["inference-type"], "object-detection");
  EXPECT_EQ(j["inference-description"], "Detections with score 0.25 or above");
  EXPECT_EQ(j["inference-results"][0]["Label"], "scratch");
  EXPECT_EQ(j["inference-results"][0]["Score"], "0.87654");
  EXPECT_EQ(j["inference-results"][0]["Boundaries"], "[10.123 20.500 30.000 41.000]");
}

TEST(ResultTest, ErrorResultsNameTheCodeAndKeepTheImage) {
  InspectResult r = Sample();
  r.verdict = Verdict::kError;
  r.detections.clear();
  r.image_id.clear();
  r.error = InvalidArgument("cam/x.txt: cannot decode image");
  const OrderedJson j = r.ToJson();
  EXPECT_EQ(j["verdict"], "error");
  EXPECT_EQ(j["error"]["code"], "InvalidArgument");
  EXPECT_EQ(j["id"], "t1:name:img 1.jpg");
  EXPECT_TRUE(j["inference-results"].empty());
}

TEST(ResultTest, TimestampsAreUtcWithMilliseconds) {
  EXPECT_EQ(FormatTimestampMs(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestampMs(1796551200123), "2026-12-06T10:00:00.123Z");
}

}  // namespace
}  // namespace vqi::inspect
