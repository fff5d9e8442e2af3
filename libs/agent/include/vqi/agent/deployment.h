// Deployment documents: the Greengrass `CreateDeployment` request body (what a user writes,
// `vqi-agent deploy --file`) and the resolved desired set the engine applies (the shape of
// the vqi-desired/1 document: every component with an exact version).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"

namespace vqi::agent {

enum class FailurePolicy { kRollback, kDoNothing };
const char* FailurePolicyName(FailurePolicy p);  // "ROLLBACK" / "DO_NOTHING"

struct ConfigurationUpdate {
  std::optional<Json> merge;       // parsed from the JSON string; an object
  std::vector<std::string> reset;  // JSON pointers ("" = the whole configuration)
};

struct DeploymentComponent {
  std::string version;  // exact
  ConfigurationUpdate update;
};

// A candidate model version fetched and installed (verified like any component) without a
// lifecycle, for the inspection component to run in the shadow of the live one
// (vqi-desired/1 `shadow`, docs/design/shadow.md). Its folder is kept while the current
// deployment names it.
struct ShadowRef {
  std::string component, version;
};

struct Deployment {
  std::string id;         // safe as a file name: [A-Za-z0-9._-], 1..64
  uint64_t sequence = 0;  // monotonic per device; a lower one than the last applied is rejected
  std::map<std::string, DeploymentComponent> components;
  FailurePolicy policy = FailurePolicy::kRollback;
  std::optional<ShadowRef> shadow;  // "shadow": {"component", "version"} when set
};

// A CreateDeployment document. Keys: targetArn, deploymentName, components,
// deploymentPolicies (failureHandlingPolicy ROLLBACK|DO_NOTHING; componentUpdatePolicy and
// configurationValidationPolicy accepted, not applied yet), iotJobConfiguration, tags,
// parentTargetArn, clientToken (accepted, server-side). Errors: InvalidArgument
// "<origin>: <field path>: <problem>", e.g. `d.json: components.a.configurationUpdate.merge:
// must be a string holding a JSON object`. `id` and `sequence` are left for the caller.
Result<Deployment> ParseCreateDeployment(const Json& doc, std::string_view origin);

// The resolved set as stored in the agent's queue (round-trips).
Json DeploymentToJson(const Deployment& d);
Result<Deployment> DeploymentFromJson(const Json& doc, std::string_view origin);

// "local-1733466000123456789"-style ids and names: [A-Za-z0-9._-]{1,64}, not starting with '.'.
Status ValidateDeploymentId(std::string_view id);

}  // namespace vqi::agent
