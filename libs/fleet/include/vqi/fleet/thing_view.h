// A thing as people and the HTTP API see it: identity, groups, last seen and last heartbeat,
// the last published desired state, its status in each deployment. Shared by `vqi thing
// list|show` and GET /v1/things[/{name}] so both print the same fields.
#pragma once

#include <string>

#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/fleet/store.h"

namespace vqi::fleet {

// {name, groups, created, revoked (null while active), certificate_serial,
//  certificate_fingerprint, desired_sequence}
Json ThingJson(const Thing& t);
// {last_seen, heartbeat (the vqi-health/1 object), heartbeat_at}; nulls when never heard from.
Json HealthJson(FleetStore& fleet, const std::string& thing);
// {sequence, deployment, cleared, acknowledged} of the last desired-state message; null if none.
Json PublishedJson(FleetStore& fleet, const std::string& thing);
// [{id, target, status, reason, updated, kpi?}] for every deployment that lists the thing.
Result<Json> ThingDeploymentsJson(FleetStore& fleet, const std::string& thing);
// ThingJson + health + published + deployments. NotFound for an unknown thing.
Result<Json> ThingDetailJson(FleetStore& fleet, const std::string& thing);

}  // namespace vqi::fleet
