// FleetStore on SQLite (libs/sqlite): things, group_members, deployments, device_status,
// status_history.
#include <ctime>
#include <filesystem>

#include "vqi/base/file.h"
#include "vqi/base/json.h"
#include "vqi/fleet/desired_state.h"
#include "vqi/fleet/store.h"
#include "vqi/sqlite/sqlite.h"

namespace vqi::fleet {
namespace {

constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE things(
  name TEXT PRIMARY KEY,
  cert_serial TEXT NOT NULL DEFAULT '',
  cert_fingerprint TEXT NOT NULL DEFAULT '',
  created TEXT NOT NULL,
  revoked TEXT NOT NULL DEFAULT '',
  desired_sequence INTEGER NOT NULL DEFAULT 0);
CREATE TABLE group_members(
  grp TEXT NOT NULL,
  thing TEXT NOT NULL REFERENCES things(name),
  PRIMARY KEY(grp, thing));
CREATE TABLE deployments(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  target TEXT NOT NULL,
  name TEXT NOT NULL,
  document TEXT NOT NULL,
  resolved TEXT NOT NULL,
  created TEXT NOT NULL,
  superseded_by TEXT NOT NULL DEFAULT '',
  canceled TEXT NOT NULL DEFAULT '',
  rollout_state TEXT NOT NULL DEFAULT '');
CREATE INDEX deployments_target ON deployments(target);
CREATE TABLE device_status(
  deployment TEXT NOT NULL,
  thing TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  updated TEXT NOT NULL,
  updated_ms INTEGER NOT NULL,
  notified_ms INTEGER NOT NULL,
  in_progress_ms INTEGER NOT NULL,
  kpi TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(deployment, thing));
CREATE TABLE status_history(
  deployment TEXT NOT NULL,
  thing TEXT NOT NULL,
  status TEXT NOT NULL,
  reason TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  at TEXT NOT NULL);
CREATE INDEX status_history_key ON status_history(deployment, thing);
)sql";

// Health and the desired-state outbox (the server's MQTT loop).
constexpr const char* kSchemaV2 = R"sql(
CREATE TABLE thing_health(
  thing TEXT PRIMARY KEY,
  last_seen TEXT NOT NULL,
  last_seen_ms INTEGER NOT NULL,
  heartbeat TEXT NOT NULL DEFAULT '',
  heartbeat_at TEXT NOT NULL DEFAULT '');
CREATE TABLE desired_outbox(
  thing TEXT PRIMARY KEY,
  sequence INTEGER NOT NULL,
  deployment TEXT NOT NULL,
  payload TEXT NOT NULL,
  pending INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL);
CREATE INDEX desired_outbox_pending ON desired_outbox(pending);
)sql";

std::string FormatTime(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// "dep-7" -> 7; 0 when not of that form.
int64_t DeploymentSeq(const std::string& id) {
  if (id.rfind("dep-", 0) != 0 || id.size() < 5 || id.size() > 22) return 0;
  int64_t v = 0;
  for (size_t i = 4; i < id.size(); ++i) {
    if (id[i] < '0' || id[i] > '9') return 0;
    v = v * 10 + (id[i] - '0');
  }
  return v;
}

std::string KpiToText(const std::optional<KpiReport>& k) {
  if (!k) return "";
  return Json{
      {"metric", k->metric}, {"before", k->before}, {"after", k->after}, {"samples", k->samples}}
      .dump();
}

std::optional<KpiReport> KpiFromText(const std::string& s) {
  if (s.empty()) return std::nullopt;
  auto j = ParseJson(s, "kpi");
  if (!j.ok() || !j->is_object()) return std::nullopt;
  KpiReport k;
  k.metric = j->value("metric", "");
  k.before = j->value("before", 0.0);
  k.after = j->value("after", 0.0);
  k.samples = j->value("samples", int64_t{0});
  return k;
}

class SqliteFleetStore : public FleetStore {
 public:
  SqliteFleetStore(sqlite::Db db, Clock* clock) : db_(std::move(db)), clock_(clock) {}

  Result<Thing> CreateThing(const std::string& name) override {
    VQI_RETURN_IF_ERROR(ValidateThingName(name));
    if (name.rfind(kReservedThingPrefix, 0) == 0)
      return PermissionDenied("thing name '" + name + "': names starting with '" +
                              std::string(kReservedThingPrefix) +
                              "' are reserved for vqi itself (the broker treats vqi-server as "
                              "the server)");
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt s,
                         db_.Prepare("INSERT INTO things(name, created) VALUES(?, ?)"));
    Status st = s.Bind(1, name).Bind(2, FormatTime(clock_->NowMs())).Run();
    if (st.code() == StatusCode::kAlreadyExists)
      return AlreadyExists("thing '" + name + "' already exists");
    VQI_RETURN_IF_ERROR(st);
    return GetThing(name);
  }

  Result<Thing> GetThing(const std::string& name) override {
    VQI_ASSIGN_OR_RETURN(
        sqlite::Stmt s, db_.Prepare("SELECT name, cert_serial, cert_fingerprint, created, revoked, "
                                    "desired_sequence FROM things WHERE name = ?"));
    s.Bind(1, name);
    VQI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return NotFound("thing '" + name + "' not found (vqi thing list)");
    Thing t = ReadThing(s);
    VQI_ASSIGN_OR_RETURN(t.groups, GroupsOf(name));
    return t;
  }

  Result<std::vector<Thing>> ListThings() override {
    VQI_ASSIGN_OR_RETURN(
        sqlite::Stmt s, db_.Prepare("SELECT name, cert_serial, cert_fingerprint, created, revoked, "
                                    "desired_sequence FROM things ORDER BY name"));
    std::vector<Thing> out;
    while (true) {
      VQI_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(ReadThing(s));
    }
    for (Thing& t : out) {
      VQI_ASSIGN_OR_RETURN(t.groups, GroupsOf(t.name));
    }
    return out;
  }

  Status SetCertificate(const std::string& thing, const std::string& serial,
                        const std::string& fingerprint) override {
    VQI_ASSIGN_OR_RETURN(
        sqlite::Stmt s,
        db_.Prepare("UPDATE things SET cert_serial = ?, cert_fingerprint = ? WHERE name = ?"));
    VQI_RETURN_IF_ERROR(s.Bind(1, serial).Bind(2, fingerprint).Bind(3, thing).Run());
    if (db_.Changes() == 0) return NotFound("thing '" + thing + "' not found");
    return Status::Ok();
  }

  Status RevokeThing(const std::string& thing) override {
    return db_.InTransaction([&]() -> Status {
      VQI_ASSIGN_OR_RETURN(Thing t, GetThing(thing));
      if (!t.revoked.empty()) return Status::Ok();
      VQI_ASSIGN_OR_RETURN(sqlite::Stmt s,
                           db_.Prepare("UPDATE things SET revoked = ? WHERE name = ?"));
      return s.Bind(1, FormatTime(clock_->NowMs())).Bind(2, thing).Run();
    });
  }

  Status AddToGroup(const std::string& thing, const std::string& group) override {
    VQI_RETURN_IF_ERROR(ValidateThingName(group, "group name"));
    return db_.InTransaction([&]() -> Status {
      VQI_ASSIGN_OR_RETURN(Thing t, GetThing(thing));
      if (!t.revoked.empty())
        return FailedPrecondition("thing '" + thing + "' was revoked at " + t.revoked);
      VQI_ASSIGN_OR_RETURN(
          sqlite::Stmt s,
          db_.Prepare("INSERT OR IGNORE INTO group_members(grp, thing) VALUES(?, ?)"));
      return s.Bind(1, group).Bind(2, thing).Run();
    });
  }

  Status RemoveFromGroup(const std::string& thing, const std::string& group) override {
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt s,
                         db_.Prepare("DELETE FROM group_members WHERE grp = ? AND thing = ?"));
    VQI_RETURN_IF_ERROR(s.Bind(1, group).Bind(2, thing).Run());
    if (db_.Changes() == 0)
      return NotFound("thing '" + thing + "' is not in group '" + group + "'");
    return Status::Ok();
  }

  Result<std::vector<std::string>> GroupMembers(const std::string& group) override {
    VQI_ASSIGN_OR_RETURN(
        sqlite::Stmt s,
        db_.Prepare("SELECT thing FROM group_members WHERE grp = ? ORDER BY thing"));
    s.Bind(1, group);
    std::vector<std::string> out;
    while (true) {
      VQI_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(s.Text(0));
    }
    return out;
  }

  Result<int64_t> NextDesiredSequence(const std::string& thing) override {
    int64_t seq = 0;
    VQI_RETURN_IF_ERROR(db_.InTransaction([&]() -> Status {
      VQI_ASSIGN_OR_RETURN(sqlite::Stmt s, db_.Prepare("UPDATE things SET desired_sequence = "
                                                       "desired_sequence + 1 WHERE name = ?"));
      VQI_RETURN_IF_ERROR(s.Bind(1, thing).Run());
      if (db_.Changes() == 0) return NotFound("thing '" + thing + "' not found");
      VQI_ASSIGN_OR_RETURN(Thing t, GetThing(thing));
      seq = t.desired_sequence;
      return Status::Ok();
    }));
    return seq;
  }

  Result<Deployment> CreateDeployment(const Deployment& d) override {
    std::string id;
    VQI_RETURN_IF_ERROR(db_.InTransaction([&]() -> Status {
      VQI_ASSIGN_OR_RETURN(std::optional<Deployment> old, LiveDeployment(d.target));
      Json resolved(d.resolved);
      VQI_ASSIGN_OR_RETURN(sqlite::Stmt s,
                           db_.Prepare("INSERT INTO deployments(target, name, document, resolved, "
                                       "created, canceled, rollout_state) VALUES(?,?,?,?,?,?,?)"));
      VQI_RETURN_IF_ERROR(s.Bind(1, d.target.ToString())
                              .Bind(2, d.name)
                              .Bind(3, d.document)
                              .Bind(4, resolved.dump())
                              .Bind(5, FormatTime(clock_->NowMs()))
                              .Bind(6, d.canceled)
                              .Bind(7, d.rollout_state)
                              .Run());
      id = "dep-" + std::to_string(db_.LastInsertRowId());
      if (old) {
        VQI_ASSIGN_OR_RETURN(sqlite::Stmt u,
                             db_.Prepare("UPDATE deployments SET superseded_by = ? WHERE seq = ?"));
        VQI_RETURN_IF_ERROR(u.Bind(1, id).Bind(2, DeploymentSeq(old->id)).Run());
      }
      return Status::Ok();
    }));
    return GetDeployment(id);
  }

  Result<Deployment> GetDeployment(const std::string& id) override {
    VQI_ASSIGN_OR_RETURN(std::vector<Deployment> v, Query(" WHERE seq = ?", DeploymentSeq(id), ""));
    if (v.empty()) return NotFound("deployment '" + id + "' not found (vqi deployment list)");
    return v.front();
  }

  Result<std::vector<Deployment>> ListDeployments() override { return Query("", 0, ""); }

  Result<std::optional<Deployment>> LiveDeployment(const Target& target) override {
    VQI_ASSIGN_OR_RETURN(
        std::vector<Deployment> v,
        Query(" WHERE target = ? AND superseded_by = '' AND canceled = ''", -1, target.ToString()));
    if (v.empty()) return std::optional<Deployment>();
    return std::optional<Deployment>(v.back());
  }

  Status CancelDeployment(const std::string& id) override {
    return db_.InTransaction([&]() -> Status {
      VQI_ASSIGN_OR_RETURN(Deployment d, GetDeployment(id));
      if (!d.canceled.empty())
        return FailedPrecondition("deployment " + id + " was already canceled at " + d.canceled);
      VQI_ASSIGN_OR_RETURN(sqlite::Stmt s,
                           db_.Prepare("UPDATE deployments SET canceled = ? WHERE seq = ?"));
      return s.Bind(1, FormatTime(clock_->NowMs())).Bind(2, DeploymentSeq(id)).Run();
    });
  }

  Status SetRolloutState(const std::string& id, const std::string& json) override {
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt s,
                         db_.Prepare("UPDATE deployments SET rollout_state = ? WHERE seq = ?"));
    VQI_RETURN_IF_ERROR(s.Bind(1, json).Bind(2, DeploymentSeq(id)).Run());
    if (db_.Changes() == 0) return NotFound("deployment '" + id + "' not found");
    return Status::Ok();
  }

  Status AddDevices(const std::string& deployment_id,
                    const std::vector<std::string>& things) override {
    return db_.InTransaction([&]() -> Status {
      const int64_t now = clock_->NowMs();
      for (const std::string& t : things) {
        VQI_ASSIGN_OR_RETURN(
            sqlite::Stmt s,
            db_.Prepare("INSERT OR IGNORE INTO device_status(deployment, thing, status, reason, "
                        "sequence, updated, updated_ms, notified_ms, in_progress_ms) "
                        "VALUES(?, ?, 'QUEUED', '', 0, ?, ?, -1, -1)"));
        VQI_RETURN_IF_ERROR(
            s.Bind(1, deployment_id).Bind(2, t).Bind(3, FormatTime(now)).Bind(4, now).Run());
        if (db_.Changes() > 0)
          VQI_RETURN_IF_ERROR(
              AppendHistory(deployment_id, t, DeviceStatus::kQueued, "", 0, FormatTime(now)));
      }
      return Status::Ok();
    });
  }

  Result<std::vector<DeviceStatusRecord>> DeviceStatuses(const std::string& id) override {
    return QueryStatus(id, "");
  }

  Result<DeviceStatusRecord> GetDeviceStatus(const std::string& id,
                                             const std::string& thing) override {
    VQI_ASSIGN_OR_RETURN(std::vector<DeviceStatusRecord> v, QueryStatus(id, thing));
    if (v.empty()) return NotFound("thing '" + thing + "' is not part of deployment '" + id + "'");
    return v.front();
  }

  Status PutDeviceStatus(const DeviceStatusRecord& r) override {
    return db_.InTransaction([&]() -> Status {
      VQI_ASSIGN_OR_RETURN(DeviceStatusRecord old, GetDeviceStatus(r.deployment_id, r.thing));
      VQI_ASSIGN_OR_RETURN(
          sqlite::Stmt s,
          db_.Prepare("UPDATE device_status SET status = ?, reason = ?, sequence = ?, updated = ?, "
                      "updated_ms = ?, notified_ms = ?, in_progress_ms = ?, kpi = ? "
                      "WHERE deployment = ? AND thing = ?"));
      VQI_RETURN_IF_ERROR(s.Bind(1, DeviceStatusName(r.status))
                              .Bind(2, r.reason)
                              .Bind(3, r.sequence)
                              .Bind(4, r.updated)
                              .Bind(5, r.updated_ms)
                              .Bind(6, r.notified_ms)
                              .Bind(7, r.in_progress_ms)
                              .Bind(8, KpiToText(r.kpi))
                              .Bind(9, r.deployment_id)
                              .Bind(10, r.thing)
                              .Run());
      if (old.status != r.status)
        VQI_RETURN_IF_ERROR(
            AppendHistory(r.deployment_id, r.thing, r.status, r.reason, r.sequence, r.updated));
      return Status::Ok();
    });
  }

  Result<std::vector<StatusHistoryEntry>> History(const std::string& id,
                                                  const std::string& thing) override {
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt s,
                         db_.Prepare("SELECT status, reason, sequence, at FROM status_history "
                                     "WHERE deployment = ? AND thing = ? ORDER BY rowid"));
    s.Bind(1, id).Bind(2, thing);
    std::vector<StatusHistoryEntry> out;
    while (true) {
      VQI_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      auto st = ParseDeviceStatus(s.Text(0));
      if (!st.ok()) return DataLoss(db_.path() + ": status_history: " + st.status().message());
      out.push_back({*st, s.Text(1), s.Int(2), s.Text(3)});
    }
    return out;
  }

  Status RecordSeen(const std::string& thing, int64_t now_ms,
                    const std::string& heartbeat) override {
    return db_.InTransaction([&]() -> Status {
      VQI_ASSIGN_OR_RETURN(Thing t, GetThing(thing));
      const std::string at = FormatTime(now_ms);
      VQI_ASSIGN_OR_RETURN(
          sqlite::Stmt s,
          db_.Prepare("INSERT INTO thing_health(thing, last_seen, last_seen_ms) VALUES(?, ?, ?) "
                      "ON CONFLICT(thing) DO UPDATE SET last_seen = excluded.last_seen, "
                      "last_seen_ms = excluded.last_seen_ms"));
      VQI_RETURN_IF_ERROR(s.Bind(1, t.name).Bind(2, at).Bind(3, now_ms).Run());
      if (heartbeat.empty()) return Status::Ok();
      VQI_ASSIGN_OR_RETURN(
          sqlite::Stmt u,
          db_.Prepare("UPDATE thing_health SET heartbeat = ?, heartbeat_at = ? WHERE thing = ?"));
      return u.Bind(1, heartbeat).Bind(2, at).Bind(3, t.name).Run();
    });
  }

  Result<std::optional<ThingHealth>> GetHealth(const std::string& thing) override {
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt s,
                         db_.Prepare("SELECT thing, last_seen, last_seen_ms, heartbeat, "
                                     "heartbeat_at FROM thing_health WHERE thing = ?"));
    s.Bind(1, thing);
    VQI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return std::optional<ThingHealth>();
    ThingHealth h{s.Text(0), s.Text(1), s.Int(2), s.Text(3), s.Text(4)};
    return std::optional<ThingHealth>(std::move(h));
  }

  Status PutDesired(const DesiredRecord& r) override {
    return db_.InTransaction([&]() -> Status {
      VQI_ASSIGN_OR_RETURN(Thing t, GetThing(r.thing));
      VQI_ASSIGN_OR_RETURN(
          sqlite::Stmt s,
          db_.Prepare("INSERT OR REPLACE INTO desired_outbox(thing, sequence, deployment, "
                      "payload, pending, updated_ms) VALUES(?, ?, ?, ?, ?, ?)"));
      return s.Bind(1, t.name)
          .Bind(2, r.sequence)
          .Bind(3, r.deployment_id)
          .Bind(4, r.payload)
          .Bind(5, int64_t{r.pending ? 1 : 0})
          .Bind(6, r.updated_ms)
          .Run();
    });
  }

  Result<std::optional<DesiredRecord>> GetDesired(const std::string& thing) override {
    VQI_ASSIGN_OR_RETURN(std::vector<DesiredRecord> v, QueryDesired(" WHERE thing = ?", thing));
    if (v.empty()) return std::optional<DesiredRecord>();
    return std::optional<DesiredRecord>(std::move(v.front()));
  }

  Result<std::vector<DesiredRecord>> PendingDesired() override {
    return QueryDesired(" WHERE pending = 1", "");
  }

  Status MarkDesiredPublished(const std::string& thing, int64_t sequence,
                              const std::string& payload) override {
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt s,
                         db_.Prepare("UPDATE desired_outbox SET pending = 0 WHERE thing = ? AND "
                                     "sequence = ? AND payload = ?"));
    return s.Bind(1, thing).Bind(2, sequence).Bind(3, payload).Run();
  }

  Result<std::vector<std::string>> RevokedThingsToClear() override {
    VQI_ASSIGN_OR_RETURN(
        sqlite::Stmt s,
        db_.Prepare("SELECT t.name FROM things t JOIN desired_outbox o ON o.thing = t.name "
                    "WHERE t.revoked != '' AND o.payload != '' ORDER BY t.name"));
    std::vector<std::string> out;
    while (true) {
      VQI_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(s.Text(0));
    }
    return out;
  }

  Result<int64_t> ChangeCounter() override {
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt s, db_.Prepare("PRAGMA data_version"));
    VQI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) return DataLoss(db_.path() + ": PRAGMA data_version returned nothing");
    return s.Int(0);
  }

  Status InTransaction(const std::function<Status()>& body) override {
    return db_.InTransaction(body);
  }

 private:
  static Thing ReadThing(const sqlite::Stmt& s) {
    Thing t;
    t.name = s.Text(0);
    t.cert_serial = s.Text(1);
    t.cert_fingerprint = s.Text(2);
    t.created = s.Text(3);
    t.revoked = s.Text(4);
    t.desired_sequence = s.Int(5);
    return t;
  }

  Result<std::vector<std::string>> GroupsOf(const std::string& thing) {
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt s,
                         db_.Prepare("SELECT grp FROM group_members WHERE thing = ? ORDER BY grp"));
    s.Bind(1, thing);
    std::vector<std::string> out;
    while (true) {
      VQI_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(s.Text(0));
    }
    return out;
  }

  // `where` binds either an integer seq (seq >= 0) or a target text (seq < 0).
  Result<std::vector<Deployment>> Query(const std::string& where, int64_t seq,
                                        const std::string& target) {
    VQI_ASSIGN_OR_RETURN(
        sqlite::Stmt s,
        db_.Prepare("SELECT seq, target, name, document, resolved, created, superseded_by, "
                    "canceled, rollout_state FROM deployments" +
                    where + " ORDER BY seq"));
    if (!where.empty()) {
      if (seq >= 0)
        s.Bind(1, seq);
      else
        s.Bind(1, target);
    }
    std::vector<Deployment> out;
    while (true) {
      VQI_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      Deployment d;
      d.id = "dep-" + std::to_string(s.Int(0));
      auto target_or = ParseTarget(s.Text(1));
      if (!target_or.ok()) return DataLoss(db_.path() + ": " + d.id + ": bad target");
      d.target = *target_or;
      d.name = s.Text(2);
      d.document = s.Text(3);
      auto resolved = ParseJson(s.Text(4), d.id + " resolved");
      if (!resolved.ok() || !resolved->is_object())
        return DataLoss(db_.path() + ": " + d.id + ": resolved set is not a JSON object");
      for (auto it = resolved->begin(); it != resolved->end(); ++it)
        if (it->is_string()) d.resolved[it.key()] = it->get<std::string>();
      d.created = s.Text(5);
      d.superseded_by = s.Text(6);
      d.canceled = s.Text(7);
      d.rollout_state = s.Text(8);
      out.push_back(std::move(d));
    }
    return out;
  }

  Result<std::vector<DeviceStatusRecord>> QueryStatus(const std::string& id,
                                                      const std::string& thing) {
    VQI_ASSIGN_OR_RETURN(
        sqlite::Stmt s,
        db_.Prepare(std::string("SELECT thing, status, reason, sequence, updated, updated_ms, "
                                "notified_ms, in_progress_ms, kpi FROM device_status "
                                "WHERE deployment = ?") +
                    (thing.empty() ? "" : " AND thing = ?") + " ORDER BY thing"));
    s.Bind(1, id);
    if (!thing.empty()) s.Bind(2, thing);
    std::vector<DeviceStatusRecord> out;
    while (true) {
      VQI_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      DeviceStatusRecord r;
      r.deployment_id = id;
      r.thing = s.Text(0);
      auto st = ParseDeviceStatus(s.Text(1));
      if (!st.ok()) return DataLoss(db_.path() + ": device_status: " + st.status().message());
      r.status = *st;
      r.reason = s.Text(2);
      r.sequence = s.Int(3);
      r.updated = s.Text(4);
      r.updated_ms = s.Int(5);
      r.notified_ms = s.Int(6);
      r.in_progress_ms = s.Int(7);
      r.kpi = KpiFromText(s.Text(8));
      out.push_back(std::move(r));
    }
    return out;
  }

  // `where` binds one text (a thing) when `thing` is not empty.
  Result<std::vector<DesiredRecord>> QueryDesired(const std::string& where,
                                                  const std::string& thing) {
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt s,
                         db_.Prepare("SELECT thing, sequence, deployment, payload, pending, "
                                     "updated_ms FROM desired_outbox" +
                                     where + " ORDER BY thing"));
    if (!thing.empty()) s.Bind(1, thing);
    std::vector<DesiredRecord> out;
    while (true) {
      VQI_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back({s.Text(0), s.Int(1), s.Text(2), s.Text(3), s.Int(4) != 0, s.Int(5)});
    }
    return out;
  }

  Status AppendHistory(const std::string& id, const std::string& thing, DeviceStatus st,
                       const std::string& reason, int64_t seq, const std::string& at) {
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt s,
                         db_.Prepare("INSERT INTO status_history(deployment, thing, status, "
                                     "reason, sequence, at) VALUES(?,?,?,?,?,?)"));
    return s.Bind(1, id)
        .Bind(2, thing)
        .Bind(3, DeviceStatusName(st))
        .Bind(4, reason)
        .Bind(5, seq)
        .Bind(6, at)
        .Run();
  }

  sqlite::Db db_;
  Clock* clock_;
};

}  // namespace

std::string Target::ToString() const { return (kind == Kind::kThing ? "thing:" : "group:") + name; }

Result<Target> ParseTarget(std::string_view text) {
  Target t;
  std::string_view rest;
  if (text.rfind("thing:", 0) == 0) {
    t.kind = Target::Kind::kThing;
    rest = text.substr(6);
  } else if (text.rfind("group:", 0) == 0) {
    t.kind = Target::Kind::kGroup;
    rest = text.substr(6);
  } else {
    return InvalidArgument("target '" + std::string(text.substr(0, 140)) +
                           "': accepted forms are thing:NAME and group:NAME");
  }
  VQI_RETURN_IF_ERROR(
      ValidateThingName(rest, t.kind == Target::Kind::kThing ? "target thing" : "target group"));
  t.name = std::string(rest);
  return t;
}

std::string FleetDbPath(const std::string& home) { return home + "/fleet/fleet.db"; }

Result<std::unique_ptr<FleetStore>> OpenSqliteFleetStore(const std::string& path,
                                                         const FleetStoreOptions& options) {
  if (options.create) {
    const std::string dir = std::filesystem::path(path).parent_path().string();
    if (!dir.empty()) VQI_RETURN_IF_ERROR(MakeDirs(dir));
  }
  sqlite::OpenOptions o;
  o.create = options.create;
  VQI_ASSIGN_OR_RETURN(sqlite::Db db, sqlite::Db::Open(path, o));
  VQI_RETURN_IF_ERROR(db.Migrate({{1, kSchemaV1, nullptr}, {2, kSchemaV2, nullptr}})
                          .WithContext("fleet store " + path));
  return std::unique_ptr<FleetStore>(
      new SqliteFleetStore(std::move(db), options.clock ? options.clock : &RealClock()));
}

}  // namespace vqi::fleet
