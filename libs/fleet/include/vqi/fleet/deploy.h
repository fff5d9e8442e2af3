// Deployments over the fleet store and the component store: creation with resolution, the
// union of a thing's deployments (its desired state), cancel, and status reports.
// docs/design/fleet.md ("Resolution at creation", "Per-device status machine").
//
// Thread-compatibility: as the stores passed in.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/component/resolve.h"
#include "vqi/component/store.h"
#include "vqi/fleet/desired_state.h"
#include "vqi/fleet/store.h"

namespace vqi::fleet {

// The component store as a resolver catalogue: every stored version of a component with the
// dependencies of its stored (canonical) recipe. DataLoss for a stored recipe that no longer
// parses. The store must outlive the catalogue.
class StoreCatalogue : public component::Catalogue {
 public:
  explicit StoreCatalogue(component::Store* store) : store_(store) {}
  Result<std::vector<component::CatalogueVersion>> Versions(std::string_view name) const override;

 private:
  component::Store* store_;
};

// The things a target names: the thing itself (NotFound if unknown) or a group's members
// (NotFound if the group has none). Revoked things are left out.
Result<std::vector<std::string>> TargetThings(FleetStore& fleet, const Target& target);

struct CreateOutcome {
  Deployment deployment;
  std::vector<std::string> things;  // the target's things, QUEUED
  std::string superseded;           // the id it superseded, "" if none
};

// Parses the CreateDeployment `text` (document.h), resolves its components against the
// component store (any resolver error refuses it, with the resolver's message), checks the
// union of every targeted thing's deployments (a conflict refuses it naming both deployments),
// then stores it (superseding the target's live deployment) with QUEUED device statuses.
// Nothing is stored on error.
Result<CreateOutcome> CreateDeployment(FleetStore& fleet, component::Store& components,
                                       const Target& target, std::string_view text,
                                       std::string_view origin = "document");

// A thing's desired state: the union of the live deployments of `thing:<thing>` and of each of
// its groups (`extra_group` counts as one more, for checking a group add), resolved together.
// `sequence` is left 0 (the publisher assigns NextDesiredSequence). NotFound when no live
// deployment targets the thing; FailedPrecondition naming both deployments on a conflict.
Result<DesiredState> ComputeDesiredState(FleetStore& fleet, component::Store& components,
                                         const std::string& thing,
                                         const std::string& extra_group = "");

// The live deployments that reach `thing` (its own target and its groups'), oldest first: the
// ones its desired state unites.
Result<std::vector<Deployment>> LiveDeploymentsOf(FleetStore& fleet, const std::string& thing);

// The desired state `thing` returns to when deployment `deployment_id` is rolled back (an
// aborted or halted rollout): its other live deployments united with the one `deployment_id`
// superseded on the same target (unless that was canceled). With nothing left, `components` is
// empty and `deployment_id` names the rolled-back deployment. `sequence` is left 0.
Result<DesiredState> RollbackDesiredState(FleetStore& fleet, component::Store& components,
                                          const std::string& thing,
                                          const std::string& deployment_id);

// Adds `thing` to `group` unless that would make its deployments conflict (FailedPrecondition
// naming both); the thing joins the group's live deployment as QUEUED, and a COMPLETED rollout
// of it becomes RUNNING again so the newcomer is notified (an ABORTED or HALTED one stays so:
// the newcomer stays QUEUED).
Status AddThingToGroup(FleetStore& fleet, component::Store& components, const std::string& thing,
                       const std::string& group);

// Removes `thing` from `group`; its unfinished status in the group's live deployment becomes
// CANCELED ("left group G"). NotFound when it is not a member.
Status RemoveThingFromGroup(FleetStore& fleet, const std::string& thing, const std::string& group,
                            int64_t now_ms);

// Cancels a deployment: no longer live; its QUEUED and IN_PROGRESS devices become CANCELED.
Status CancelDeployment(FleetStore& fleet, const std::string& id, int64_t now_ms);

// Whether a device may move `from` → `to`; `by_server` for TIMED_OUT and CANCELED, which only
// the server sets. FailedPrecondition naming both states otherwise.
Status CheckTransition(DeviceStatus from, DeviceStatus to, bool by_server);

// Applies a parsed report (ParseStatusReport already checked the sender). Refused, store
// unchanged: NotFound for an unknown deployment or a thing not in it, FailedPrecondition for a
// sequence not above the last accepted one (replay) or an illegal transition. The desired state
// a device runs unites every live deployment reaching it (its `deploymentId` is the newest),
// so the same status is also recorded, where the transition is legal, for the thing in the
// other live deployments that reach it (reason "via dep-N: ...").
// A report that repeats the record's current terminal status and carries `kpi` is accepted
// (sequence still above the last) and only adds/updates the KPI: the device sends it once it has
// its samples, after SUCCEEDED (COMMON20 "KPI"). A terminal repeat without `kpi` is refused.
Result<DeviceStatusRecord> ApplyStatusReport(FleetStore& fleet, const StatusReport& report,
                                             int64_t now_ms);

// A server-side change (TIMED_OUT, CANCELED, or recording that a thing was notified when
// `status` equals the current one): checked like a report, with `by_server`.
Status SetDeviceStatus(FleetStore& fleet, const std::string& deployment_id,
                       const std::string& thing, DeviceStatus status, const std::string& reason,
                       int64_t now_ms);

}  // namespace vqi::fleet
