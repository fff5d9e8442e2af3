#include "vqi/inspect/drift_alert.h"

#include <gtest/gtest.h>

namespace vqi::inspect {
namespace {

InspectResult WithDrift(double score) {
  InspectResult r;
  r.thing = "cam-1";
  r.component = "vqi.inspect";
  r.image_id = std::string(64, 'a');
  r.image_name = "x.jpg";
  r.model_name = "vqi.model.tags";
  r.model_version = "1.0.2";
  r.timestamp_ms = 1796551200123;
  r.drift =
      DriftReport{score, score > 1, "brightness", 30, {{"brightness", score}, {"contrast", 0.2}}};
  return r;
}

TEST(DriftAlertTest, OneMessagePerStateChange) {
  DriftAlertTracker t;
  InspectResult none;
  none.thing = "cam-1";
  EXPECT_FALSE(t.Update(none));             // no report yet
  EXPECT_FALSE(t.Update(WithDrift(0.4)));   // starts cleared: nothing to say
  auto raised = t.Update(WithDrift(1.75));  // over the threshold
  ASSERT_TRUE(raised);
  EXPECT_TRUE(t.raised());
  EXPECT_EQ(raised->topic, "vqi/v1/results/cam-1/vqi.inspect/drift");
  EXPECT_EQ(raised->id, "cam-1:" + std::string(64, 'a') + ":drift");
  const OrderedJson& m = raised->message;
  EXPECT_EQ(m["schema"], "vqi.inspect.drift/1");
  EXPECT_EQ(m["state"], "raised");
  EXPECT_EQ(m["alert"], true);
  EXPECT_DOUBLE_EQ(m["score"].get<double>(), 1.75);
  EXPECT_EQ(m["feature"], "brightness");
  EXPECT_EQ(m["window"], 30);
  EXPECT_DOUBLE_EQ(m["scores"]["contrast"].get<double>(), 0.2);
  EXPECT_EQ(m["model"]["version"], "1.0.2");
  EXPECT_EQ(m["image"]["name"], "x.jpg");
  EXPECT_EQ(m["timestamp"], "2026-12-06T10:00:00.123Z");
  EXPECT_FALSE(t.Update(WithDrift(2.5)));  // still raised
  auto cleared = t.Update(WithDrift(0.9));
  ASSERT_TRUE(cleared);
  EXPECT_EQ(cleared->message["state"], "cleared");
  EXPECT_EQ(cleared->message["alert"], false);
  EXPECT_FALSE(t.raised());
}

}  // namespace
}  // namespace vqi::inspect
