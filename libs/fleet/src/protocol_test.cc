// The wire protocol shared with vqi-agent: desired state and status reports, round trips and
// hostile input.
#include <gtest/gtest.h>

#include <string>

#include "vqi/fleet/desired_state.h"
#include "vqi/fleet/status_report.h"

namespace vqi::fleet {
namespace {

DesiredState SampleDesired() {
  DesiredState s;
  s.thing = "cam-1";
  s.deployment_id = "dep-3";
  s.sequence = 7;
  s.components["com.acme.Model"] = {"1.2.0", ConfigurationUpdate{"{\"a\":1}", {"/b", "/c~1d"}}};
  s.components["com.acme.Runner"] = {"2.0.0", std::nullopt};
  s.failure_handling_policy = "DO_NOTHING";
  s.component_update_timeout_seconds = 120;
  s.component_update_action = "SKIP_NOTIFY_COMPONENTS";
  s.configuration_validation_timeout_seconds = 45;
  return s;
}

TEST(DesiredStateTest, RoundTrip) {
  const DesiredState s = SampleDesired();
  const std::string text = DesiredStateToJson(s);
  EXPECT_NE(text.find("\"schema\":\"vqi-desired/1\""), std::string::npos) << text;
  auto back = ParseDesiredState(text, "cam-1");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, s);
}

TEST(DesiredStateTest, KpiRoundTripAndRefusals) {
  DesiredState s = SampleDesired();
  s.kpi = KpiSpec{"defect_rate", 50};
  auto back = ParseDesiredState(DesiredStateToJson(s), "cam-1");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_TRUE(back->kpi.has_value());
  EXPECT_EQ(back->kpi->metric, "defect_rate");
  EXPECT_EQ(back->kpi->window, 50);
  const std::string base = DesiredStateToJson(SampleDesired());
  auto with = [&](const std::string& kpi) {
    return base.substr(0, base.size() - 1) + ",\"kpi\":" + kpi + "}";
  };
  EXPECT_TRUE(ParseDesiredState(with(R"({"metric":"m"})"), "cam-1").ok());
  auto zero = ParseDesiredState(with(R"({"metric":"m","window":0})"), "cam-1");
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.status().message().find("window"), std::string::npos) << zero.status().message();
  auto extra = ParseDesiredState(with(R"({"metric":"m","x":1})"), "cam-1");
  ASSERT_FALSE(extra.ok());
  EXPECT_NE(extra.status().message().find("kpi.x"), std::string::npos) << extra.status().message();
  EXPECT_FALSE(ParseDesiredState(with(R"({"metric":""})"), "cam-1").ok());
}

TEST(DesiredStateTest, RefusesOtherThingAndGarbage) {
  const std::string text = DesiredStateToJson(SampleDesired());
  auto other = ParseDesiredState(text, "cam-2");
  EXPECT_EQ(other.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(other.status().message().find("'cam-1' is not this device ('cam-2')"),
            std::string::npos);
  EXPECT_EQ(ParseDesiredState("{not json", "cam-1").status().code(), StatusCode::kInvalidArgument);
  auto big = ParseDesiredState(std::string(kMaxDesiredBytes + 1, ' '), "cam-1");
  EXPECT_EQ(big.status().code(), StatusCode::kResourceExhausted);
  std::string bad = text;
  bad.replace(bad.find("\"sequence\":7"), 12, "\"sequence\":0");
  auto zero = ParseDesiredState(bad);
  EXPECT_NE(zero.status().message().find("sequence: 0 is out of range"), std::string::npos)
      << zero.status().message();
  std::string extra = text;
  extra.insert(1, "\"surprise\":1,");
  auto unknown = ParseDesiredState(extra);
  EXPECT_NE(unknown.status().message().find("surprise: unknown key"), std::string::npos)
      << unknown.status().message();
  std::string ptr = text;
  ptr.replace(ptr.find("\"/b\""), 4, "\"b~\"");
  auto badptr = ParseDesiredState(ptr);
  EXPECT_NE(badptr.status().message().find(
                "components.com.acme.Model.configurationUpdate.reset[0]: 'b~' is not a JSON "
                "pointer"),
            std::string::npos)
      << badptr.status().message();
}

TEST(NamesTest, ThingNames) {
  EXPECT_TRUE(ValidateThingName("cam-1").ok());
  EXPECT_TRUE(ValidateThingName("A.b_c-9").ok());
  EXPECT_TRUE(ValidateThingName(std::string(128, 'a')).ok());
  EXPECT_FALSE(ValidateThingName(std::string(129, 'a')).ok());
  EXPECT_FALSE(ValidateThingName("").ok());
  EXPECT_FALSE(ValidateThingName("-x").ok());
  EXPECT_FALSE(ValidateThingName(".x").ok());
  auto slash = ValidateThingName("a/b");
  EXPECT_NE(slash.message().find("character 2 is not allowed"), std::string::npos);
  EXPECT_FALSE(ValidateThingName("a+b").ok());
  EXPECT_FALSE(ValidateThingName("a#").ok());
  EXPECT_FALSE(ValidateThingName("a b").ok());
}

StatusReport SampleReport() {
  StatusReport r;
  r.thing = "cam-1";
  r.deployment_id = "dep-3";
  r.sequence = 4;
  r.status = DeviceStatus::kSucceeded;
  r.reason = "all RUNNING";
  r.components["com.acme.Model"] = {"1.2.0", "RUNNING"};
  r.kpi = KpiReport{"defect_rate", 0.02, 0.025, 200};
  r.at = "2026-12-06T07:00:00Z";
  return r;
}

TEST(StatusReportTest, RoundTrip) {
  const StatusReport r = SampleReport();
  auto back = ParseStatusReport(StatusReportToJson(r), "cam-1");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
}

TEST(StatusReportTest, HostileInput) {
  const std::string text = StatusReportToJson(SampleReport());
  auto wrong = ParseStatusReport(text, "cam-2");
  EXPECT_EQ(wrong.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(wrong.status().message().find("'cam-1' is not the sender 'cam-2'"), std::string::npos);

  std::string big = text;
  big.insert(big.size() - 1, ",\"reason2\":\"" + std::string(kMaxStatusBytes, 'x') + "\"");
  auto oversized = ParseStatusReport(big, "cam-1");
  EXPECT_EQ(oversized.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(oversized.status().message().find("more than the maximum of 65536"), std::string::npos);

  std::string unknown = text;
  unknown.replace(unknown.find("\"SUCCEEDED\""), 11, "\"DONE\"");
  auto st = ParseStatusReport(unknown, "cam-1");
  EXPECT_EQ(st.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.status().message().find("status: 'DONE' is not a status (QUEUED|IN_PROGRESS|"),
            std::string::npos)
      << st.status().message();

  std::string state = text;
  state.replace(state.find("\"RUNNING\""), 9, "\"HAPPY\"");
  auto cs = ParseStatusReport(state, "cam-1");
  EXPECT_NE(cs.status().message().find("components.com.acme.Model.state: 'HAPPY' is not a "
                                       "component state"),
            std::string::npos)
      << cs.status().message();

  std::string schema = text;
  schema.replace(schema.find("vqi-status/1"), 12, "vqi-status/9");
  EXPECT_NE(ParseStatusReport(schema, "cam-1").status().message().find("schema:"),
            std::string::npos);

  EXPECT_EQ(ParseStatusReport("\x01\x02garbage", "cam-1").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseStatusReport("[1,2]", "cam-1").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseStatusReport(std::string(50, '[') + std::string(50, ']'), "cam-1").status().code(),
            StatusCode::kResourceExhausted);
  std::string nan = text;
  nan.replace(nan.find("\"sequence\":4"), 12, "\"sequence\":\"4\"");
  EXPECT_NE(ParseStatusReport(nan, "cam-1").status().message().find("sequence: not an integer"),
            std::string::npos);
}

TEST(StatusTest, Names) {
  for (int i = 0; i <= static_cast<int>(DeviceStatus::kCanceled); ++i) {
    const auto s = static_cast<DeviceStatus>(i);
    auto back = ParseDeviceStatus(DeviceStatusName(s));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, s);
  }
  EXPECT_FALSE(IsTerminal(DeviceStatus::kQueued));
  EXPECT_FALSE(IsTerminal(DeviceStatus::kInProgress));
  EXPECT_TRUE(IsTerminal(DeviceStatus::kCanceled));
  EXPECT_TRUE(IsFailure(DeviceStatus::kTimedOut));
  EXPECT_FALSE(IsFailure(DeviceStatus::kCanceled));
  EXPECT_FALSE(IsFailure(DeviceStatus::kSucceeded));
}

}  // namespace
}  // namespace vqi::fleet
