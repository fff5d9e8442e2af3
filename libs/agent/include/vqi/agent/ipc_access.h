// Authorization of component IPC requests from a recipe's `accessControl` (Greengrass's
// format, docs/design/ipc.md "Authorization"):
//
//   accessControl:
//     aws.greengrass.ipc.mqttproxy:            # cloud publishes (and uploads)
//       "com.example.Inspect:mqttproxy:1":
//         operations: ["aws.greengrass#PublishToIoTCore"]
//         resources: ["vqi/v1/results/{iot:thingName}/com.example.Inspect/#"]
//     aws.greengrass.ipc.pubsub:               # local topics
//       "...": {operations: ["aws.greengrass#PublishToTopic", "aws.greengrass#SubscribeToTopic"],
//               resources: ["camera/*"]}
//     vqi.ipc.config:                          # vqi's: reading ANOTHER component's configuration
//       "...": {operations: ["vqi#GetConfiguration", "vqi#SubscribeToConfigurationUpdate"],
//               resources: ["com.example.Model"]}
//
// A request is allowed when one policy of the service lists the operation (or "*") and a
// resource that matches: "*" matches everything; mqttproxy resources are MQTT filters (+, #)
// and may also use '*' as a glob; other services use '*' globs. Nothing granted = refused.
// Pure functions; thread-safe.
#pragma once

#include <string_view>

#include "vqi/base/json.h"

namespace vqi::agent::ipc_access {

inline constexpr std::string_view kMqttProxy = "aws.greengrass.ipc.mqttproxy";
inline constexpr std::string_view kPubSub = "aws.greengrass.ipc.pubsub";
inline constexpr std::string_view kConfig = "vqi.ipc.config";

inline constexpr std::string_view kPublishToIoTCore = "aws.greengrass#PublishToIoTCore";
inline constexpr std::string_view kPublishToTopic = "aws.greengrass#PublishToTopic";
inline constexpr std::string_view kSubscribeToTopic = "aws.greengrass#SubscribeToTopic";
inline constexpr std::string_view kGetConfiguration = "vqi#GetConfiguration";
inline constexpr std::string_view kSubscribeToConfigurationUpdate =
    "vqi#SubscribeToConfigurationUpdate";

// `access_control` is the component's configuration["accessControl"] (may be null/absent).
// `{iot:thingName}` in a resource is replaced by `thing` first (Greengrass's recipe variable in
// authorization policies; the agent does not interpolate configuration otherwise); with an
// empty `thing` it stays literal and matches nothing.
bool Allowed(const Json& access_control, std::string_view service, std::string_view operation,
             std::string_view resource, std::string_view thing = "");

// MQTT 3.1.1 topic filter matching ('+' one level, '#' the rest, also the parent level).
bool MqttFilterMatches(std::string_view filter, std::string_view topic);

}  // namespace vqi::agent::ipc_access
