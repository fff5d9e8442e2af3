#include "vqi/fleet/health.h"

#include <gtest/gtest.h>

namespace vqi::fleet {
namespace {

TEST(HealthTest, RoundTripKeepsKnownFieldsOnly) {
  HealthReport h;
  h.thing = "cam-1";
  h.at = "2026-12-06T10:00:00Z";
  h.uptime_seconds = 42;
  h.components["com.acme.Model"] = {"1.2.0", "RUNNING"};
  h.bytes_downloaded = 1024;
  h.bytes_from_cache = 0;
  h.pss_kb = 5120;
  auto back = ParseHealthReport(HealthReportToJson(h), "cam-1");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, h);
  // A newer agent's extra field is ignored, not an error.
  auto extra = ParseHealthReport(
      R"({"schema":"vqi-health/1","thing":"cam-1","uptimeSeconds":1,"rejectedMessages":3})",
      "cam-1");
  ASSERT_TRUE(extra.ok()) << extra.status().ToString();
  EXPECT_EQ(HealthReportToJson(*extra).find("rejectedMessages"), std::string::npos);
  // A component whose state the device does not know yet.
  auto unknown = ParseHealthReport(
      R"({"schema":"vqi-health/1","thing":"cam-1","components":{"a":{"version":"1.0.0","state":""}}})",
      "cam-1");
  ASSERT_TRUE(unknown.ok()) << unknown.status().ToString();
  EXPECT_EQ(unknown->components.at("a").state, "");
}

TEST(HealthTest, HostileInputIsRefusedWithAReason) {
  struct Case {
    std::string text, want;
  };
  const std::vector<Case> cases = {
      {"not json", "heartbeat"},
      {"[]", "not a JSON object"},
      {R"({"schema":"vqi-health/2","thing":"cam-1"})", "schema"},
      {R"({"schema":"vqi-health/1","thing":"cam-2"})", "not the sender"},
      {R"({"schema":"vqi-health/1","thing":"cam-1","uptimeSeconds":-1})", "uptimeSeconds"},
      {R"({"schema":"vqi-health/1","thing":"cam-1","pssKb":"big"})", "pssKb"},
      {R"({"schema":"vqi-health/1","thing":"cam-1","transfer":{"bytesDownloaded":1.5}})",
       "bytesDownloaded"},
      {R"({"schema":"vqi-health/1","thing":"cam-1","components":{"a":{"state":"HAPPY"}}})",
       "component state"},
      {R"({"schema":"vqi-health/1","thing":"cam-1","components":[1]})", "components"},
      {std::string(70000, ' '), "maximum of 65536"},
      {std::string(100, '[') + std::string(100, ']'), "nested"},
  };
  for (const Case& c : cases) {
    auto r = ParseHealthReport(c.text, "cam-1");
    ASSERT_FALSE(r.ok()) << c.text.substr(0, 80);
    EXPECT_NE(r.status().message().find(c.want), std::string::npos)
        << c.text.substr(0, 80) << " -> " << r.status().ToString();
  }
}

}  // namespace
}  // namespace vqi::fleet
