// The MQTT topics of the vqi control channel: the ONE place they are spelled
// (docs/design/pki-mqtt.md). Builders take a validated thing name; Parse turns a received topic
// back into its parts and refuses anything else.
//
//   vqi/v1/things/<thing>/desired        server -> device, retained, QoS 1 (vqi-desired/1)
//   vqi/v1/things/<thing>/status         device -> server, QoS 1 (vqi-status/1)
//   vqi/v1/things/<thing>/health         device -> server, QoS 1 (heartbeat)
//   vqi/v1/results/<thing>/<component>   device -> server, QoS 1 (vqi.inspect.result/1)
//   vqi/v1/results/<thing>/<component>/upload   device -> server, QoS 1 (an uploaded file:
//                                        docs/design/ipc.md "Uploads", docs/design/results.md)
//   vqi/v1/results/<thing>/<component>/shadow   device -> server, QoS 1 (shadow statistics)
//   vqi/v1/results/<thing>/<component>/drift    device -> server, QoS 1 (drift alerts)
//
// The broker ACL (`pattern write vqi/v1/results/%u/#`) lets a device write all four.
//
// Thread-safe (pure functions).
#pragma once

#include <string>
#include <string_view>

#include "vqi/base/status.h"

namespace vqi::transport::topics {

inline constexpr std::string_view kPrefix = "vqi/v1/";
inline constexpr size_t kMaxThingNameBytes = 128;

// A thing name (= a device certificate's CN = its MQTT client id and user name):
// [A-Za-z0-9][A-Za-z0-9._-]{0,127}. No '/', '+', '#' (they would break the %u topic ACL).
bool ValidThingName(std::string_view name);
// OK or InvalidArgument naming `what`, the value (escaped) and the accepted form.
Status CheckThingName(std::string_view name, std::string_view what = "thing name");

// vqi's own MQTT identities (the server's client certificate CN; the broker ACL grants it
// vqi/#). Every name starting with "vqi-" is reserved for vqi itself.
inline constexpr std::string_view kServerIdentity = "vqi-server";
inline constexpr std::string_view kReservedPrefix = "vqi-";
// CheckThingName, and PermissionDenied for a reserved name: what `vqi thing create` calls, so
// no device can be issued a certificate that the broker would treat as the server.
Status CheckDeviceName(std::string_view name);

// A component name inside a results topic: the same characters as a thing name, 1..256 bytes
// (Greengrass component names such as com.example.Model).
bool ValidComponentName(std::string_view name);

// Builders. REQUIRES: valid names (VQI_CHECK; callers validate input first).
std::string DesiredTopic(std::string_view thing);
std::string StatusTopic(std::string_view thing);
std::string HealthTopic(std::string_view thing);
std::string ResultsTopic(std::string_view thing, std::string_view component);
std::string UploadTopic(std::string_view thing, std::string_view component);  // .../upload
std::string ShadowTopic(std::string_view thing, std::string_view component);  // .../shadow
std::string DriftTopic(std::string_view thing, std::string_view component);   // .../drift
// Subscription filters.
std::string ThingAll(std::string_view thing);  // vqi/v1/things/<thing>/#
std::string AllStatus();                       // vqi/v1/things/+/status
std::string AllHealth();                       // vqi/v1/things/+/health
std::string AllResults();                      // vqi/v1/results/#

enum class Kind { kDesired, kStatus, kHealth, kResults };
const char* KindName(Kind kind);

// The sub-kinds of a results topic (Parsed::sub): "" is a plain result.
inline constexpr std::string_view kUploadSub = "upload";
inline constexpr std::string_view kShadowSub = "shadow";
inline constexpr std::string_view kDriftSub = "drift";

struct Parsed {
  Kind kind;
  std::string thing;
  std::string component;  // kResults only
  std::string sub;        // kResults only: "" | "upload" | "shadow" | "drift"
};

// InvalidArgument for any topic that is not exactly one of the forms above (a results topic
// with a fourth level other than upload, shadow or drift included).
Result<Parsed> Parse(std::string_view topic);

}  // namespace vqi::transport::topics
