#include "vqi/transport/topics.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace vqi::transport::topics {
namespace {

TEST(TopicsTest, ThingNames) {
  for (const char* ok : {"a", "Z9", "cam-01", "line_3.cam-7", "0abc"}) {
    EXPECT_TRUE(ValidThingName(ok)) << ok;
    EXPECT_TRUE(CheckThingName(ok).ok()) << ok;
  }
  EXPECT_TRUE(ValidThingName(std::string(128, 'a')));
  for (const std::string& bad : std::vector<std::string>{
           "", "a/b", "a+", "#", "+", "a b", "-x", ".x", "_x", "a\nb", "caf\xc3\xa9", "a#b", "x/#",
           std::string(129, 'a'), std::string("a\0b", 3)}) {
    EXPECT_FALSE(ValidThingName(bad)) << bad;
    Status s = CheckThingName(bad, "thing");
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad;
  }
  // The message escapes control bytes instead of printing them.
  Status s = CheckThingName("a\nb");
  EXPECT_NE(s.message().find("a\\x0ab"), std::string::npos) << s.message();
}

TEST(TopicsTest, DeviceNamesCannotTakeVqisOwnIdentities) {
  EXPECT_TRUE(CheckDeviceName("cam-1").ok());
  EXPECT_EQ(CheckDeviceName(kServerIdentity).code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckDeviceName("vqi-anything").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckDeviceName("a/b").code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckThingName(kServerIdentity).ok());  // a valid CN for the server itself
}

TEST(TopicsTest, BuildersAndParseRoundTrip) {
  EXPECT_EQ(DesiredTopic("cam-1"), "vqi/v1/things/cam-1/desired");
  EXPECT_EQ(StatusTopic("cam-1"), "vqi/v1/things/cam-1/status");
  EXPECT_EQ(HealthTopic("cam-1"), "vqi/v1/things/cam-1/health");
  EXPECT_EQ(ResultsTopic("cam-1", "com.example.Model"), "vqi/v1/results/cam-1/com.example.Model");
  EXPECT_EQ(ThingAll("cam-1"), "vqi/v1/things/cam-1/#");
  EXPECT_EQ(AllStatus(), "vqi/v1/things/+/status");

  auto p = Parse(DesiredTopic("cam-1"));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->kind, Kind::kDesired);
  EXPECT_EQ(p->thing, "cam-1");
  p = Parse(StatusTopic("x"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, Kind::kStatus);
  p = Parse(HealthTopic("x"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, Kind::kHealth);
  p = Parse(ResultsTopic("cam-2", "c.d"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->kind, Kind::kResults);
  EXPECT_EQ(p->thing, "cam-2");
  EXPECT_EQ(p->component, "c.d");
  EXPECT_EQ(p->sub, "");
}

TEST(TopicsTest, ResultsSubKinds) {
  EXPECT_EQ(UploadTopic("cam-1", "vqi.inspect"), "vqi/v1/results/cam-1/vqi.inspect/upload");
  EXPECT_EQ(ShadowTopic("cam-1", "vqi.inspect"), "vqi/v1/results/cam-1/vqi.inspect/shadow");
  EXPECT_EQ(DriftTopic("cam-1", "vqi.inspect"), "vqi/v1/results/cam-1/vqi.inspect/drift");
  struct Case {
    std::string topic;
    std::string_view sub;
  };
  for (const Case& c : std::vector<Case>{{UploadTopic("cam-1", "c"), kUploadSub},
                                         {ShadowTopic("cam-1", "c"), kShadowSub},
                                         {DriftTopic("cam-1", "c"), kDriftSub},
                                         {ResultsTopic("cam-1", "c"), ""}}) {
    auto p = Parse(c.topic);
    ASSERT_TRUE(p.ok()) << c.topic << ": " << p.status().ToString();
    EXPECT_EQ(p->kind, Kind::kResults);
    EXPECT_EQ(p->thing, "cam-1");
    EXPECT_EQ(p->component, "c");
    EXPECT_EQ(p->sub, c.sub) << c.topic;
  }
  // Other topics never carry a sub-kind.
  auto p = Parse(StatusTopic("cam-1"));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->sub, "");
}

TEST(TopicsTest, ParseRefusesEverythingElse) {
  for (const char* bad : {"",
                          "vqi",
                          "vqi/v1/",
                          "vqi/v2/things/a/desired",
                          "vqi/v1/things/a/desired/x",
                          "vqi/v1/things//desired",
                          "vqi/v1/things/a/other",
                          "vqi/v1/things/+/status",
                          "vqi/v1/things/#",
                          "vqi/v1/results/a",
                          "vqi/v1/results/a/b/c",
                          "vqi/v1/results/a/",
                          "vqi/v1/results/a/b/",
                          "vqi/v1/results/a/b/upload/x",
                          "vqi/v1/results/a/b/Upload",
                          "vqi/v1/results/a/b/uploads",
                          "vqi/v1/results/a/b/+",
                          "vqi/v1/results/a/b/#",
                          "vqi/v1/results/a//upload",
                          "vqi/v1/results//b/upload",
                          "vqi/v1/things/a/status/upload",
                          "/vqi/v1/things/a/desired",
                          "vqi/v1/things/a b/status"}) {
    auto p = Parse(bad);
    EXPECT_FALSE(p.ok()) << bad;
    if (!p.ok()) {
      EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

}  // namespace
}  // namespace vqi::transport::topics
