// The fleet store: things, thing groups, deployments and per-device deployment status, behind
// an interface that speaks the domain (no SQL), with a SQLite implementation at
// <home>/fleet/fleet.db (OpenSqliteFleetStore). docs/design/fleet.md.
//
// Errors: InvalidArgument for a bad name, NotFound naming the thing / group / deployment,
// AlreadyExists for a second thing of one name, FailedPrecondition for a change the state does
// not allow (a revoked thing, a canceled deployment); storage errors as libs/sqlite reports them
// (Unavailable = retry, DataLoss = damaged file). A failed call leaves the store unchanged.
//
// Thread-compatibility: one FleetStore per thread (one SQLite connection); several processes
// may share one file.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/clock.h"
#include "vqi/base/status.h"
#include "vqi/fleet/status_report.h"

namespace vqi::fleet {

// Thing names starting with this are vqi's own MQTT identities (libs/transport topics.h
// kReservedPrefix): CreateThing refuses them with PermissionDenied.
inline constexpr std::string_view kReservedThingPrefix = "vqi-";

struct Thing {
  std::string name;
  std::string cert_serial;          // "" until a certificate is issued
  std::string cert_fingerprint;     // SHA-256 hex of the DER certificate, "" until issued
  std::string created;              // RFC 3339 UTC
  std::string revoked;              // "" while active
  int64_t desired_sequence = 0;     // last desired-state sequence handed out
  std::vector<std::string> groups;  // sorted
};

// `thing:NAME` or `group:NAME`.
struct Target {
  enum class Kind { kThing, kGroup } kind = Kind::kThing;
  std::string name;
  std::string ToString() const;  // "thing:cam-1"
  bool operator==(const Target&) const = default;
};
// InvalidArgument naming the accepted forms.
Result<Target> ParseTarget(std::string_view text);

struct Deployment {
  std::string id;  // "dep-N"
  Target target;
  std::string name;                             // deploymentName
  std::string document;                         // the original CreateDeployment text
  std::map<std::string, std::string> resolved;  // component -> exact version, deps included
  std::string created;
  std::string superseded_by;  // "" while current
  std::string canceled;       // "" unless canceled (RFC 3339)
  std::string rollout_state;  // JSON (rollout.h RolloutStateToJson), "" before the first step
  bool live() const { return superseded_by.empty() && canceled.empty(); }
};

struct DeviceStatusRecord {
  std::string deployment_id;
  std::string thing;
  DeviceStatus status = DeviceStatus::kQueued;
  std::string reason;
  int64_t sequence = 0;         // last accepted report sequence (0: none yet)
  std::string updated;          // RFC 3339
  int64_t updated_ms = 0;       // same instant, for the planner
  int64_t notified_ms = -1;     // when the thing was told (-1: not yet)
  int64_t in_progress_ms = -1;  // when it first reported IN_PROGRESS
  std::optional<KpiReport> kpi;
};

// When a thing was last heard from and its last heartbeat (health.h), server's clock.
struct ThingHealth {
  std::string thing;
  std::string last_seen;  // RFC 3339; any accepted message (status or heartbeat)
  int64_t last_seen_ms = -1;
  std::string heartbeat;     // the last vqi-health/1 document (validated, known fields), "" none
  std::string heartbeat_at;  // when it arrived, RFC 3339, "" none
};

// The last desired-state message of a thing, as handed to the publisher (the outbox): kept
// until the broker acknowledged it, so a server that dies in between publishes it again at its
// next start (docs/design/fleet.md, "Publishing").
struct DesiredRecord {
  std::string thing;
  int64_t sequence = 0;       // the document's sequence (0 for a clear)
  std::string deployment_id;  // the document's deploymentId ("" for a clear)
  std::string payload;        // the vqi-desired/1 text; "" clears the retained message
  bool pending = true;        // not yet acknowledged by the broker
  int64_t updated_ms = 0;
};

struct StatusHistoryEntry {
  DeviceStatus status;
  std::string reason;
  int64_t sequence = 0;
  std::string at;
};

class FleetStore {
 public:
  virtual ~FleetStore() = default;

  // ---- things and groups
  virtual Result<Thing> CreateThing(const std::string& name) = 0;
  virtual Result<Thing> GetThing(const std::string& name) = 0;
  virtual Result<std::vector<Thing>> ListThings() = 0;  // by name
  virtual Status SetCertificate(const std::string& thing, const std::string& serial,
                                const std::string& fingerprint) = 0;
  virtual Status RevokeThing(const std::string& thing) = 0;  // idempotent
  virtual Status AddToGroup(const std::string& thing, const std::string& group) = 0;
  virtual Status RemoveFromGroup(const std::string& thing, const std::string& group) = 0;
  // Members of a group, by name (empty when the group has none).
  virtual Result<std::vector<std::string>> GroupMembers(const std::string& group) = 0;
  // Next desired-state sequence of `thing` (strictly increasing, stored before it returns).
  virtual Result<int64_t> NextDesiredSequence(const std::string& thing) = 0;

  // ---- deployments
  // Stores a new deployment (id assigned) and marks the live deployment of the same target as
  // superseded by it, in one transaction. `d.id`, `created`, `superseded_by` are ignored.
  virtual Result<Deployment> CreateDeployment(const Deployment& d) = 0;
  virtual Result<Deployment> GetDeployment(const std::string& id) = 0;
  virtual Result<std::vector<Deployment>> ListDeployments() = 0;  // oldest first
  // The live deployment of `target`, if any.
  virtual Result<std::optional<Deployment>> LiveDeployment(const Target& target) = 0;
  // FailedPrecondition when already canceled; NotFound for an unknown id.
  virtual Status CancelDeployment(const std::string& id) = 0;
  virtual Status SetRolloutState(const std::string& id, const std::string& json) = 0;

  // ---- per-device status
  // Adds QUEUED rows for things not yet listed under the deployment.
  virtual Status AddDevices(const std::string& deployment_id,
                            const std::vector<std::string>& things) = 0;
  virtual Result<std::vector<DeviceStatusRecord>> DeviceStatuses(
      const std::string& deployment_id) = 0;  // by thing
  virtual Result<DeviceStatusRecord> GetDeviceStatus(const std::string& deployment_id,
                                                     const std::string& thing) = 0;
  // Replaces the record (matched by deployment and thing) and appends a history entry when the
  // status changed. The caller checks the transition (deploy.h ApplyStatusReport).
  virtual Status PutDeviceStatus(const DeviceStatusRecord& r) = 0;
  virtual Result<std::vector<StatusHistoryEntry>> History(const std::string& deployment_id,
                                                          const std::string& thing) = 0;
  // ---- health (last seen, last heartbeat)
  // Records that `thing` was heard from at `now_ms`; a non-empty `heartbeat` replaces the last
  // one. NotFound for an unknown thing.
  virtual Status RecordSeen(const std::string& thing, int64_t now_ms,
                            const std::string& heartbeat) = 0;
  // nullopt when the thing was never heard from.
  virtual Result<std::optional<ThingHealth>> GetHealth(const std::string& thing) = 0;

  // ---- desired-state outbox
  // Replaces the thing's record (pending). NotFound for an unknown thing.
  virtual Status PutDesired(const DesiredRecord& r) = 0;
  virtual Result<std::optional<DesiredRecord>> GetDesired(const std::string& thing) = 0;
  // Every record not yet acknowledged, by thing.
  virtual Result<std::vector<DesiredRecord>> PendingDesired() = 0;
  // Marks the record acknowledged if it still has `sequence` and `payload` (a newer one stays
  // pending).
  virtual Status MarkDesiredPublished(const std::string& thing, int64_t sequence,
                                      const std::string& payload) = 0;
  // Revoked things whose last desired record is not a clear: their retained message must go.
  virtual Result<std::vector<std::string>> RevokedThingsToClear() = 0;

  // A number that changes whenever another connection (another process, or another FleetStore)
  // committed a change to the store since the last call (SQLite's PRAGMA data_version): cheap
  // enough to poll every few milliseconds.
  virtual Result<int64_t> ChangeCounter() = 0;

  // Runs `body` atomically (nested calls join).
  virtual Status InTransaction(const std::function<Status()>& body) = 0;
};

// <home>/fleet/fleet.db
std::string FleetDbPath(const std::string& home);

struct FleetStoreOptions {
  bool create = true;
  Clock* clock = nullptr;  // RealClock() when null
};
Result<std::unique_ptr<FleetStore>> OpenSqliteFleetStore(const std::string& path,
                                                         const FleetStoreOptions& options = {});

}  // namespace vqi::fleet
