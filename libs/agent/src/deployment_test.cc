#include "vqi/agent/deployment.h"

#include <gtest/gtest.h>

namespace vqi::agent {
namespace {

Result<Deployment> Parse(const std::string& text) {
  auto j = ParseJson(text);
  if (!j.ok()) return j.status();
  return ParseCreateDeployment(*j, "d.json");
}

TEST(ParseCreateDeployment, ReadsComponentsUpdatesAndPolicy) {
  auto d = Parse(R"({"targetArn": "arn:aws:iot:x:thing/t", "deploymentName": "n",
    "components": {"a": {"componentVersion": "1.0.0",
      "configurationUpdate": {"merge": "{\"k\": {\"x\": 1}}", "reset": ["/old", ""]}}},
    "deploymentPolicies": {"failureHandlingPolicy": "DO_NOTHING",
      "componentUpdatePolicy": {"timeoutInSeconds": 60, "action": "NOTIFY_COMPONENTS"}},
    "iotJobConfiguration": {}})");
  ASSERT_TRUE(d.ok()) << d.status().message();
  ASSERT_EQ(d->components.size(), 1u);
  const auto& a = d->components.at("a");
  EXPECT_EQ(a.version, "1.0.0");
  ASSERT_TRUE(a.update.merge.has_value());
  EXPECT_EQ((*a.update.merge)["k"]["x"], 1);
  EXPECT_EQ(a.update.reset, (std::vector<std::string>{"/old", ""}));
  EXPECT_EQ(d->policy, FailurePolicy::kDoNothing);
}

TEST(ParseCreateDeployment, RefusesWithFieldPaths) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[]", "d.json: (document): must be a JSON object"},
      {R"({"components": {"a": "1.0.0"}})", "d.json: components.a: must be an object"},
      {R"({"components": {"a": {"componentVersion": 1}}})",
       "components.a.componentVersion: required"},
      {R"({"components": {"a": {"componentVersion": "1.0.0", "extra": 1}}})",
       "components.a.extra: unknown key"},
      {R"({"components": {"a": {"componentVersion": "1.0.0", "configurationUpdate": {"merge": "[1]"}}}})",
       "configurationUpdate.merge: must be a string holding a JSON object"},
      {R"({"components": {"a": {"componentVersion": "1.0.0", "configurationUpdate": {"merge": "{"}}}})",
       "configurationUpdate.merge"},
      {R"({"components": {"a": {"componentVersion": "1.0.0", "configurationUpdate": {"reset": "/x"}}}})",
       "configurationUpdate.reset: must be a list of JSON pointers"},
      {R"({"components": {"a": {"componentVersion": "1.0.0", "runWith": {}}}})",
       "runWith: not supported"},
      {R"({"components": {"a": {"componentVersion": "1.0.0"}}, "deploymentPolicies": {"failureHandlingPolicy": "x"}})",
       "must be ROLLBACK or DO_NOTHING"},
  };
  for (const auto& [text, message] : cases) {
    auto d = Parse(text);
    ASSERT_FALSE(d.ok()) << text;
    EXPECT_EQ(d.status().code(), StatusCode::kInvalidArgument) << text;
    EXPECT_NE(d.status().message().find(message), std::string::npos) << d.status().message();
  }
}

TEST(DeploymentJson, RoundTrips) {
  auto d = Parse(R"({"components": {"a": {"componentVersion": "1.0.0",
      "configurationUpdate": {"merge": "{\"k\": 2}", "reset": ["/r"]}}, "b": {"componentVersion": "2.0.0"}}})");
  ASSERT_TRUE(d.ok());
  d->id = "local-7";
  d->sequence = 7;
  auto back = DeploymentFromJson(DeploymentToJson(*d), "queue");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->id, "local-7");
  EXPECT_EQ(back->sequence, 7u);
  EXPECT_EQ(back->components.at("a").update.merge, d->components.at("a").update.merge);
  EXPECT_EQ(back->components.at("a").update.reset, d->components.at("a").update.reset);
  EXPECT_EQ(back->components.at("b").version, "2.0.0");
  EXPECT_FALSE(ValidateDeploymentId("../x").ok());
  EXPECT_FALSE(ValidateDeploymentId("").ok());
  EXPECT_TRUE(ValidateDeploymentId("local-1").ok());
}

}  // namespace
}  // namespace vqi::agent
