// IPC authorization from a recipe's accessControl.
#include "vqi/agent/ipc_access.h"

#include "gtest/gtest.h"

namespace vqi::agent::ipc_access {
namespace {

const Json kAc = Json::parse(R"({
  "aws.greengrass.ipc.mqttproxy": {"p:1": {"operations": ["aws.greengrass#PublishToIoTCore"],
                                           "resources": ["vqi/v1/results/+/insp/#"]}},
  "aws.greengrass.ipc.pubsub": {"p:2": {"operations": ["*"], "resources": ["camera/*"]}},
  "vqi.ipc.config": {"p:3": {"operations": ["vqi#GetConfiguration"], "resources": ["model"]}}
})");

TEST(IpcAccessTest, GrantsOnlyWhatThePoliciesList) {
  EXPECT_TRUE(Allowed(kAc, kMqttProxy, kPublishToIoTCore, "vqi/v1/results/t1/insp"));
  EXPECT_TRUE(Allowed(kAc, kMqttProxy, kPublishToIoTCore, "vqi/v1/results/t1/insp/upload"));
  EXPECT_FALSE(Allowed(kAc, kMqttProxy, kPublishToIoTCore, "vqi/v1/results/t1/other"));
  EXPECT_FALSE(Allowed(kAc, kMqttProxy, kPublishToIoTCore, "vqi/v1/things/t1/status"));
  EXPECT_TRUE(Allowed(kAc, kPubSub, kPublishToTopic, "camera/frames"));
  EXPECT_TRUE(Allowed(kAc, kPubSub, kSubscribeToTopic, "camera/x"));
  EXPECT_FALSE(Allowed(kAc, kPubSub, kPublishToTopic, "robot/x"));
  EXPECT_TRUE(Allowed(kAc, kConfig, kGetConfiguration, "model"));
  EXPECT_FALSE(Allowed(kAc, kConfig, kSubscribeToConfigurationUpdate, "model"));
  EXPECT_FALSE(Allowed(kAc, kConfig, kGetConfiguration, "secrets"));
  EXPECT_FALSE(Allowed(Json(), kMqttProxy, kPublishToIoTCore, "a"));
  EXPECT_FALSE(Allowed(Json::parse(R"({"aws.greengrass.ipc.mqttproxy": [1]})"), kMqttProxy,
                       kPublishToIoTCore, "a"));
}

TEST(IpcAccessTest, ThingNameVariableIsTheAgentsThing) {
  const Json ac = Json::parse(R"({"aws.greengrass.ipc.mqttproxy": {"p:1": {
      "operations": ["aws.greengrass#PublishToIoTCore"],
      "resources": ["vqi/v1/results/{iot:thingName}/insp", "vqi/v1/results/{iot:thingName}/insp/#"]}}})");
  EXPECT_TRUE(Allowed(ac, kMqttProxy, kPublishToIoTCore, "vqi/v1/results/t1/insp", "t1"));
  EXPECT_TRUE(Allowed(ac, kMqttProxy, kPublishToIoTCore, "vqi/v1/results/t1/insp/upload", "t1"));
  EXPECT_FALSE(Allowed(ac, kMqttProxy, kPublishToIoTCore, "vqi/v1/results/t2/insp", "t1"));
  EXPECT_FALSE(Allowed(ac, kMqttProxy, kPublishToIoTCore, "vqi/v1/results/t1/insp"));  // no thing
  EXPECT_FALSE(
      Allowed(ac, kMqttProxy, kPublishToIoTCore, "vqi/v1/results/{iot:thingName}/insp", "t1"));
}

TEST(IpcAccessTest, MqttFilters) {
  EXPECT_TRUE(MqttFilterMatches("a/#", "a"));
  EXPECT_TRUE(MqttFilterMatches("a/#", "a/b/c"));
  EXPECT_TRUE(MqttFilterMatches("a/+/c", "a/b/c"));
  EXPECT_FALSE(MqttFilterMatches("a/+/c", "a/b/d"));
  EXPECT_FALSE(MqttFilterMatches("a/+", "a/b/c"));
  EXPECT_FALSE(MqttFilterMatches("a/b", "a/b/c"));
  EXPECT_TRUE(MqttFilterMatches("#", "x/y"));
}

}  // namespace
}  // namespace vqi::agent::ipc_access
