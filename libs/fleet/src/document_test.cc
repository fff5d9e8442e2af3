// Greengrass CreateDeployment documents: a full body as the AWS documentation shows it, and each
// malformed case with the message a user sees.
#include "vqi/fleet/document.h"

#include <gtest/gtest.h>

#include <string>

namespace vqi::fleet {
namespace {

// Shaped like the CreateDeployment request in the Greengrass v2 API reference.
constexpr const char* kAwsBody = R"({
  "targetArn": "arn:aws:iot:us-west-2:123456789012:thinggroup/MyGreengrassCoreGroup",
  "deploymentName": "Deployment for MyGreengrassCoreGroup",
  "components": {
    "com.example.HelloWorld": {
      "componentVersion": "1.0.0",
      "configurationUpdate": {
        "merge": "{\"Message\":\"Hello from the deployment\"}",
        "reset": ["/Message", "/a~1b"]
      },
      "runWith": {"posixUser": "ggc_user:ggc_group",
                  "systemResourceLimits": {"cpus": 0.5, "memory": 102400}}
    },
    "aws.greengrass.Cli": {"componentVersion": "2.12.0"}
  },
  "deploymentPolicies": {
    "failureHandlingPolicy": "ROLLBACK",
    "componentUpdatePolicy": {"timeoutInSeconds": 120, "action": "NOTIFY_COMPONENTS"},
    "configurationValidationPolicy": {"timeoutInSeconds": 45}
  },
  "iotJobConfiguration": {
    "jobExecutionsRolloutConfig": {
      "exponentialRate": {"baseRatePerMinute": 2, "incrementFactor": 2.0,
                          "rateIncreaseCriteria": {"numberOfSucceededThings": 3}},
      "maximumPerMinute": 50
    },
    "abortConfig": {"criteriaList": [
      {"failureType": "FAILED", "action": "CANCEL", "thresholdPercentage": 10,
       "minNumberOfExecutedThings": 5},
      {"failureType": "ALL", "action": "CANCEL", "thresholdPercentage": 25,
       "minNumberOfExecutedThings": 10}]},
    "timeoutConfig": {"inProgressTimeoutInMinutes": 30}
  },
  "tags": {"team": "vision"},
  "vqiRolloutConfig": {"kpi": {"metric": "defect_rate", "direction": "LOWER_IS_BETTER",
                               "maxRegressionPercent": 20, "window": 200,
                               "minReportingThings": 3}}
})";

TEST(DocumentTest, ParsesAwsBody) {
  auto d = ParseDeploymentDocument(kAwsBody);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->deployment_name, "Deployment for MyGreengrassCoreGroup");
  ASSERT_EQ(d->components.size(), 2u);
  const DocumentComponent& h = d->components.at("com.example.HelloWorld");
  EXPECT_EQ(h.version, "1.0.0");
  ASSERT_TRUE(h.configuration_update.has_value());
  EXPECT_EQ(*h.configuration_update->merge, "{\"Message\":\"Hello from the deployment\"}");
  EXPECT_EQ(h.configuration_update->reset, (std::vector<std::string>{"/Message", "/a~1b"}));
  EXPECT_EQ(h.run_with["posixUser"], "ggc_user:ggc_group");
  EXPECT_EQ(d->failure_handling_policy, "ROLLBACK");
  EXPECT_EQ(d->component_update_timeout_seconds, 120);
  EXPECT_EQ(d->configuration_validation_timeout_seconds, 45);
  const RolloutConfig& r = d->rollout;
  EXPECT_TRUE(r.exponential);
  EXPECT_EQ(r.base_rate_per_minute, 2);
  EXPECT_DOUBLE_EQ(r.increment_factor, 2.0);
  EXPECT_EQ(r.criteria.succeeded_things, 3);
  EXPECT_EQ(r.criteria.notified_things, 0);
  EXPECT_EQ(r.maximum_per_minute, 50);
  ASSERT_EQ(r.abort.size(), 2u);
  EXPECT_EQ(r.abort[1].failure_type, "ALL");
  EXPECT_DOUBLE_EQ(r.abort[1].threshold_percentage, 25);
  EXPECT_EQ(r.abort[1].min_executed_things, 10);
  EXPECT_EQ(r.in_progress_timeout_minutes, 30);
  ASSERT_TRUE(r.kpi.has_value());
  EXPECT_EQ(r.kpi->metric, "defect_rate");
  EXPECT_TRUE(r.kpi->lower_is_better);
  EXPECT_EQ(r.kpi->min_reporting_things, 3);
}

TEST(DocumentTest, Defaults) {
  auto d = ParseDeploymentDocument(R"({"components": {"a.B": {"componentVersion": "1.0.0"}}})");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->failure_handling_policy, "ROLLBACK");
  EXPECT_EQ(d->component_update_action, "NOTIFY_COMPONENTS");
  EXPECT_EQ(d->component_update_timeout_seconds, 60);
  EXPECT_EQ(d->configuration_validation_timeout_seconds, 30);
  EXPECT_FALSE(d->rollout.exponential);
  EXPECT_EQ(d->rollout.maximum_per_minute, 1000);
  EXPECT_FALSE(d->rollout.kpi.has_value());
}

// (document text, expected code, expected message part)
struct Bad {
  const char* text;
  StatusCode code;
  const char* message;
};

class BadDocumentTest : public ::testing::TestWithParam<Bad> {};

TEST_P(BadDocumentTest, Refused) {
  const Bad& b = GetParam();
  auto d = ParseDeploymentDocument(b.text);
  ASSERT_FALSE(d.ok()) << b.text;
  EXPECT_EQ(d.status().code(), b.code) << d.status().ToString();
  EXPECT_NE(d.status().message().find(b.message), std::string::npos)
      << "got: " << d.status().message() << "\nwanted: " << b.message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadDocumentTest,
    ::testing::Values(
        Bad{"{", StatusCode::kInvalidArgument, "document"},
        Bad{"[]", StatusCode::kInvalidArgument, "document: not a JSON object"},
        Bad{"{}", StatusCode::kInvalidArgument, "components: missing"},
        Bad{R"({"components": {}})", StatusCode::kInvalidArgument, "components: empty"},
        Bad{R"({"components": {"a.B": {"componentVersion": "1.0.0"}}, "colour": 1})",
            StatusCode::kInvalidArgument, "colour: unknown key; accepted: targetArn"},
        Bad{R"({"components": {"com.example.Model": {"componentVersion": "1.0.0",
              "configurationUpdate": {"merge": {"a": 1}}}}})",
            StatusCode::kInvalidArgument,
            "components.com.example.Model.configurationUpdate.merge: not a JSON string"},
        Bad{R"({"components": {"com.example.Model": {"componentVersion": "1.0.0",
              "configurationUpdate": {"merge": "[1,2]"}}}})",
            StatusCode::kInvalidArgument,
            "components.com.example.Model.configurationUpdate.merge: the string must hold a JSON "
            "object (got array)"},
        Bad{R"({"components": {"com.example.Model": {"componentVersion": "1.0.0",
              "configurationUpdate": {"merge": "{oops"}}}})",
            StatusCode::kInvalidArgument, "components.com.example.Model.configurationUpdate.merge"},
        Bad{R"({"components": {"com.example.Model": {"componentVersion": "1.0.0",
              "configurationUpdate": {"reset": ["/ok", "no-slash"]}}}})",
            StatusCode::kInvalidArgument,
            "components.com.example.Model.configurationUpdate.reset[1]: 'no-slash' is not a JSON "
            "pointer"},
        Bad{R"({"components": {"com.example.Model": {"componentVersion": "1.0.0",
              "configurationUpdate": {"reset": "/a"}}}})",
            StatusCode::kInvalidArgument,
            "components.com.example.Model.configurationUpdate.reset: not a JSON array"},
        Bad{R"({"components": {"com.example.Model": {"componentVersion": "1.0.0",
              "configurationUpdate": {"mrege": "{}"}}}})",
            StatusCode::kInvalidArgument,
            "components.com.example.Model.configurationUpdate.mrege: unknown key"},
        Bad{R"({"components": {"com.example.Model": {"version": "1.0.0"}}})",
            StatusCode::kInvalidArgument, "components.com.example.Model.version: unknown key"},
        Bad{R"({"components": {"com.example.Model": {}}})", StatusCode::kInvalidArgument,
            "components.com.example.Model.componentVersion: missing"},
        Bad{R"({"components": {"com.example.Model": {"componentVersion": "^1.0"}}})",
            StatusCode::kInvalidArgument, "components.com.example.Model.componentVersion:"},
        Bad{R"({"components": {"bad/name": {"componentVersion": "1.0.0"}}})",
            StatusCode::kInvalidArgument, "components.bad/name:"},
        Bad{R"({"components": {"a.B": {"componentVersion": "1.0.0"}},
              "deploymentPolicies": {"failureHandlingPolicy": "RETRY"}})",
            StatusCode::kInvalidArgument,
            "deploymentPolicies.failureHandlingPolicy: 'RETRY' is not one of ROLLBACK|DO_NOTHING"},
        Bad{R"({"components": {"a.B": {"componentVersion": "1.0.0"}},
              "deploymentPolicies": {"componentUpdatePolicy": {"action": "SKIP"}}})",
            StatusCode::kInvalidArgument,
            "deploymentPolicies.componentUpdatePolicy.action: 'SKIP' is not one of "
            "NOTIFY_COMPONENTS|SKIP_NOTIFY_COMPONENTS"},
        Bad{R"({"components": {"a.B": {"componentVersion": "1.0.0"}},
              "deploymentPolicies": {"configurationValidationPolicy": {"timeoutInSeconds": 0}}})",
            StatusCode::kInvalidArgument,
            "deploymentPolicies.configurationValidationPolicy.timeoutInSeconds: 0 is out of range"},
        Bad{R"({"components": {"a.B": {"componentVersion": "1.0.0"}},
              "iotJobConfiguration": {"jobExecutionsRolloutConfig": {"exponentialRate":
                {"baseRatePerMinute": 5, "incrementFactor": 9,
                 "rateIncreaseCriteria": {"numberOfNotifiedThings": 1}}}}})",
            StatusCode::kInvalidArgument,
            "iotJobConfiguration.jobExecutionsRolloutConfig.exponentialRate.incrementFactor: 9 "
            "is out of range [1.1, 5"},
        Bad{R"({"components": {"a.B": {"componentVersion": "1.0.0"}},
              "iotJobConfiguration": {"jobExecutionsRolloutConfig": {"exponentialRate":
                {"baseRatePerMinute": 5, "incrementFactor": 2,
                 "rateIncreaseCriteria": {}}}}})",
            StatusCode::kInvalidArgument,
            "rateIncreaseCriteria: give exactly one of numberOfNotifiedThings, "
            "numberOfSucceededThings"},
        Bad{R"({"components": {"a.B": {"componentVersion": "1.0.0"}},
              "iotJobConfiguration": {"jobExecutionsRolloutConfig": {"maximumPerMinute": 10,
                "exponentialRate": {"baseRatePerMinute": 50, "incrementFactor": 2,
                 "rateIncreaseCriteria": {"numberOfNotifiedThings": 1}}}}})",
            StatusCode::kInvalidArgument, "baseRatePerMinute: 50 is above maximumPerMinute 10"},
        Bad{R"({"components": {"a.B": {"componentVersion": "1.0.0"}},
              "iotJobConfiguration": {"abortConfig": {"criteriaList": [
                {"failureType": "BROKEN", "action": "CANCEL", "thresholdPercentage": 10,
                 "minNumberOfExecutedThings": 1}]}}})",
            StatusCode::kInvalidArgument,
            "iotJobConfiguration.abortConfig.criteriaList[0].failureType: 'BROKEN' is not one "
            "of FAILED|REJECTED|TIMED_OUT|ALL"},
        Bad{R"({"components": {"a.B": {"componentVersion": "1.0.0"}},
              "iotJobConfiguration": {"abortConfig": {"criteriaList": [
                {"failureType": "ALL", "action": "CANCEL", "thresholdPercentage": 101,
                 "minNumberOfExecutedThings": 1}]}}})",
            StatusCode::kInvalidArgument,
            "criteriaList[0].thresholdPercentage: 101 is out of range [0, 100]"},
        Bad{R"({"components": {"a.B": {"componentVersion": "1.0.0"}},
              "iotJobConfiguration": {"timeoutConfig": {"inProgressTimeoutInMinutes": 1.5}}})",
            StatusCode::kInvalidArgument,
            "iotJobConfiguration.timeoutConfig.inProgressTimeoutInMinutes: not an integer"},
        Bad{R"({"components": {"a.B": {"componentVersion": "1.0.0"}},
              "vqiRolloutConfig": {"kpi": {"metric": "m", "direction": "UP",
                                           "maxRegressionPercent": 5}}})",
            StatusCode::kInvalidArgument,
            "vqiRolloutConfig.kpi.direction: 'UP' is not one of LOWER_IS_BETTER|HIGHER_IS_BETTER"},
        Bad{R"({"components": {"a.B": {"componentVersion": "1.0.0"}},
              "vqiRolloutConfig": {"kpi": {"metric": "m", "direction": "LOWER_IS_BETTER"}}})",
            StatusCode::kInvalidArgument, "vqiRolloutConfig.kpi.maxRegressionPercent: missing"}));

TEST(DocumentTest, Oversized) {
  std::string big = R"({"components": {"a.B": {"componentVersion": "1.0.0"}}, "tags": {"x": ")" +
                    std::string(kMaxDocumentBytes, 'x') + "\"}}";
  auto d = ParseDeploymentDocument(big);
  EXPECT_EQ(d.status().code(), StatusCode::kResourceExhausted);
  std::string many = R"({"components": {)";
  for (size_t i = 0; i <= kMaxDocumentComponents; ++i)
    many += (i ? "," : "") + std::string("\"c") + std::to_string(i) +
            "\": {\"componentVersion\": \"1.0.0\"}";
  many += "}}";
  auto m = ParseDeploymentDocument(many);
  EXPECT_EQ(m.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(m.status().message().find("257 components, more than the maximum of 256"),
            std::string::npos);
}

}  // namespace
}  // namespace vqi::fleet
