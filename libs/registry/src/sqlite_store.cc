// registry::Store on SQLite (libs/sqlite): four tables, every write in one IMMEDIATE
// transaction (version numbers are assigned under the write lock).
#include <algorithm>

#include "vqi/base/file.h"
#include "vqi/registry/store.h"
#include "vqi/sqlite/sqlite.h"

namespace vqi::registry {
namespace {

constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE IF NOT EXISTS model_groups (
  name        TEXT PRIMARY KEY,
  description TEXT NOT NULL,
  created     TEXT NOT NULL,
  created_by  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS model_versions (
  group_name      TEXT NOT NULL REFERENCES model_groups(name),
  version         INTEGER NOT NULL CHECK (version >= 1),
  description     TEXT NOT NULL,
  status          TEXT NOT NULL
                  CHECK (status IN ('PendingManualApproval', 'Approved', 'Rejected')),
  status_changed  TEXT NOT NULL,
  created         TEXT NOT NULL,
  created_by      TEXT NOT NULL,
  metrics         TEXT NOT NULL,
  dataset         TEXT NOT NULL,
  split           TEXT NOT NULL,
  split_digest    TEXT NOT NULL,
  train_config    TEXT NOT NULL,
  source_revision TEXT NOT NULL,
  parent          TEXT NOT NULL,
  run_id          TEXT NOT NULL,
  PRIMARY KEY (group_name, version)
);
CREATE TABLE IF NOT EXISTS model_artifacts (
  group_name TEXT NOT NULL,
  version    INTEGER NOT NULL,
  name       TEXT NOT NULL,
  digest     TEXT NOT NULL,
  size       INTEGER NOT NULL,
  media_type TEXT NOT NULL,
  PRIMARY KEY (group_name, version, name),
  FOREIGN KEY (group_name, version) REFERENCES model_versions(group_name, version)
);
CREATE INDEX IF NOT EXISTS model_artifacts_digest ON model_artifacts(digest);
CREATE TABLE IF NOT EXISTS approval_events (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  group_name TEXT NOT NULL,
  version    INTEGER NOT NULL,
  from_status TEXT NOT NULL,
  to_status  TEXT NOT NULL,
  actor      TEXT NOT NULL,
  time       TEXT NOT NULL,
  reason     TEXT NOT NULL,
  FOREIGN KEY (group_name, version) REFERENCES model_versions(group_name, version)
);
CREATE INDEX IF NOT EXISTS approval_events_version ON approval_events(group_name, version, seq);
)sql";

constexpr const char* kVersionColumns =
    "group_name, version, description, status, status_changed, created, created_by, metrics, "
    "dataset, split, split_digest, train_config, source_revision, parent, run_id";

class SqliteStore final : public Store {
 public:
  SqliteStore(sqlite::Db db, Clock* clock) : db_(std::move(db)), clock_(clock) {}

  Result<Group> CreateGroup(const std::string& name, const std::string& description,
                            const std::string& created_by) override {
    VQI_RETURN_IF_ERROR(ValidateGroupName(name));
    VQI_RETURN_IF_ERROR(ValidateText("description", description, kMaxDescriptionBytes, true));
    VQI_RETURN_IF_ERROR(ValidateActor(created_by, "created_by"));
    Group g{name, description, Now(), created_by, 0, 0};
    Status st = db_.InTransaction([&]() -> Status {
      VQI_ASSIGN_OR_RETURN(sqlite::Stmt s,
                           db_.Prepare("INSERT INTO model_groups VALUES (?1, ?2, ?3, ?4)"));
      return s.Bind(1, g.name)
          .Bind(2, g.description)
          .Bind(3, g.created)
          .Bind(4, g.created_by)
          .Run();
    });
    if (st.code() == StatusCode::kAlreadyExists)
      return AlreadyExists("model group '" + name + "' already exists");
    VQI_RETURN_IF_ERROR(st);
    return g;
  }

  Result<std::vector<Group>> Groups() override {
    VQI_ASSIGN_OR_RETURN(
        sqlite::Stmt s,
        db_.Prepare("SELECT g.name, g.description, g.created, g.created_by, "
                    "(SELECT COUNT(*) FROM model_versions v WHERE v.group_name = g.name), "
                    "(SELECT COALESCE(MAX(version), 0) FROM model_versions v "
                    " WHERE v.group_name = g.name AND v.status = 'Approved') "
                    "FROM model_groups g ORDER BY g.name"));
    std::vector<Group> out;
    while (true) {
      VQI_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back({s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4), s.Int(5)});
    }
    return out;
  }

  Result<ModelVersion> Register(const NewVersion& v) override {
    VQI_RETURN_IF_ERROR(ValidateNewVersion(v));
    const std::string metrics = v.metrics.dump();
    if (metrics.size() > kMaxMetricsJsonBytes)
      return ResourceExhausted("metrics have " + std::to_string(metrics.size()) +
                               " bytes of JSON, more than the maximum of " +
                               std::to_string(kMaxMetricsJsonBytes) + " (docs/limits.md)");
    const std::string train = v.lineage.train_config.dump();
    if (train.size() > kMaxTrainConfigJsonBytes)
      return ResourceExhausted("lineage.train_config has " + std::to_string(train.size()) +
                               " bytes of JSON, more than the maximum of " +
                               std::to_string(kMaxTrainConfigJsonBytes) + " (docs/limits.md)");
    const std::string now = Now();
    int64_t number = 0;
    VQI_RETURN_IF_ERROR(db_.InTransaction([&]() -> Status {
      if (!v.lineage.parent.empty()) {
        std::string pg;
        int64_t pv = 0;
        VQI_RETURN_IF_ERROR(ParseVersionRef(v.lineage.parent, &pg, &pv, "lineage.parent"));
        VQI_RETURN_IF_ERROR(RequireVersion(pg, pv).WithContext("lineage.parent"));
      }
      VQI_ASSIGN_OR_RETURN(
          sqlite::Stmt g,
          db_.Prepare("INSERT OR IGNORE INTO model_groups VALUES (?1, ?4, ?2, ?3)"));
      g.Bind(1, v.group).Bind(2, now).Bind(3, v.created_by).Bind(4, v.group_description);
      VQI_RETURN_IF_ERROR(g.Run());
      VQI_ASSIGN_OR_RETURN(sqlite::Stmt m,
                           db_.Prepare("SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions "
                                       "WHERE group_name = ?1"));
      m.Bind(1, v.group);
      VQI_ASSIGN_OR_RETURN(bool row, m.Step());
      if (!row) return Internal("registry: no row from MAX(version)");
      number = m.Int(0);
      VQI_ASSIGN_OR_RETURN(
          sqlite::Stmt ins,
          db_.Prepare(std::string("INSERT INTO model_versions (") + kVersionColumns +
                      ") VALUES (?1, ?2, ?3, 'PendingManualApproval', ?4, ?4, ?5, ?6, ?7, ?8, ?9, "
                      "?10, ?11, ?12, ?13)"));
      const Lineage& l = v.lineage;
      ins.Bind(1, v.group).Bind(2, number).Bind(3, v.description).Bind(4, now);
      ins.Bind(5, v.created_by).Bind(6, metrics).Bind(7, l.dataset).Bind(8, l.split);
      ins.Bind(9, l.split_digest).Bind(10, train).Bind(11, l.source_revision);
      ins.Bind(12, l.parent).Bind(13, l.run_id);
      VQI_RETURN_IF_ERROR(ins.Run());
      VQI_ASSIGN_OR_RETURN(sqlite::Stmt a, db_.Prepare("INSERT INTO model_artifacts VALUES "
                                                       "(?1, ?2, ?3, ?4, ?5, ?6)"));
      for (const ArtifactRef& r : v.artifacts) {
        a.Reset();
        a.Bind(1, v.group).Bind(2, number).Bind(3, r.name).Bind(4, r.digest);
        a.Bind(5, r.size).Bind(6, r.media_type);
        VQI_RETURN_IF_ERROR(a.Run());
      }
      return AppendEvent(v.group, number, "none", ApprovalStatus::kPendingManualApproval,
                         v.created_by, now, "registered");
    }));
    return Get(v.group, number);
  }

  Result<ModelVersion> Get(const std::string& group, int64_t version) override {
    VQI_RETURN_IF_ERROR(ValidateGroupName(group));
    VQI_ASSIGN_OR_RETURN(
        sqlite::Stmt s, db_.Prepare(std::string("SELECT ") + kVersionColumns +
                                    " FROM model_versions WHERE group_name = ?1 AND version = ?2"));
    s.Bind(1, group).Bind(2, version);
    VQI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (!row) {
      VQI_RETURN_IF_ERROR(RequireVersion(group, version));  // the message naming what exists
      return NotFound("model " + group + "/" + std::to_string(version) + " does not exist");
    }
    VQI_ASSIGN_OR_RETURN(ModelVersion mv, ReadVersion(s));
    VQI_RETURN_IF_ERROR(LoadArtifacts(&mv));
    return mv;
  }

  Result<std::vector<ModelVersion>> List(const std::string& group) override {
    VQI_RETURN_IF_ERROR(ValidateGroupName(group));
    VQI_RETURN_IF_ERROR(RequireGroup(group));
    VQI_ASSIGN_OR_RETURN(
        sqlite::Stmt s, db_.Prepare(std::string("SELECT ") + kVersionColumns +
                                    " FROM model_versions WHERE group_name = ?1 ORDER BY version"));
    s.Bind(1, group);
    std::vector<ModelVersion> out;
    while (true) {
      VQI_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      VQI_ASSIGN_OR_RETURN(ModelVersion mv, ReadVersion(s));
      out.push_back(std::move(mv));
    }
    // One query for the artifacts of the whole group.
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt a,
                         db_.Prepare("SELECT version, name, digest, size, media_type "
                                     "FROM model_artifacts WHERE group_name = ?1 "
                                     "ORDER BY version, name"));
    a.Bind(1, group);
    size_t i = 0;
    while (true) {
      VQI_ASSIGN_OR_RETURN(bool row, a.Step());
      if (!row) break;
      while (i < out.size() && out[i].version < a.Int(0)) ++i;
      if (i < out.size() && out[i].version == a.Int(0))
        out[i].artifacts.push_back({a.Text(1), a.Text(2), a.Int(3), a.Text(4)});
    }
    return out;
  }

  Result<ModelVersion> LatestApproved(const std::string& group) override {
    VQI_RETURN_IF_ERROR(ValidateGroupName(group));
    VQI_RETURN_IF_ERROR(RequireGroup(group));
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt s,
                         db_.Prepare("SELECT MAX(version) FROM model_versions "
                                     "WHERE group_name = ?1 AND status = 'Approved'"));
    s.Bind(1, group);
    VQI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (row && !s.IsNull(0)) return Get(group, s.Int(0));
    // None approved: say what there is.
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt all,
                         db_.Prepare("SELECT version, status FROM model_versions "
                                     "WHERE group_name = ?1 ORDER BY version DESC LIMIT 11"));
    all.Bind(1, group);
    std::vector<std::string> seen;
    while (true) {
      VQI_ASSIGN_OR_RETURN(bool r, all.Step());
      if (!r) break;
      seen.push_back(std::to_string(all.Int(0)) + " " + all.Text(1));
    }
    std::string what = seen.empty()       ? "it has no versions"
                       : seen.size() > 10 ? "latest versions: ... "
                                          : "versions: ";
    if (seen.size() > 10) seen.resize(10);
    std::reverse(seen.begin(), seen.end());
    for (size_t i = 0; i < seen.size(); ++i) what += (i ? ", " : "") + seen[i];
    return NotFound("model group '" + group + "' has no Approved version (" + what +
                    "); approve one with `vqi model approve --group " + group + " --version N`");
  }

  Result<ApprovalEvent> SetApproval(const std::string& group, int64_t version,
                                    const Approval& approval) override {
    VQI_RETURN_IF_ERROR(ValidateGroupName(group));
    VQI_RETURN_IF_ERROR(ValidateActor(approval.actor, "actor"));
    VQI_RETURN_IF_ERROR(ValidateText("reason", approval.reason, kMaxReasonBytes, true));
    if (approval.status == ApprovalStatus::kRejected && approval.reason.empty())
      return InvalidArgument("a rejection needs a reason (--reason)");
    ApprovalEvent e;
    VQI_RETURN_IF_ERROR(db_.InTransaction([&]() -> Status {
      VQI_RETURN_IF_ERROR(RequireVersion(group, version));
      VQI_ASSIGN_OR_RETURN(sqlite::Stmt s, db_.Prepare("SELECT status FROM model_versions "
                                                       "WHERE group_name = ?1 AND version = ?2"));
      s.Bind(1, group).Bind(2, version);
      VQI_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) return NotFound("model " + group + "/" + std::to_string(version));
      VQI_ASSIGN_OR_RETURN(ApprovalStatus from, ParseApprovalStatus(s.Text(0)));
      const std::string ref = group + "/" + std::to_string(version);
      if (!IsLegalTransition(from, approval.status))
        return FailedPrecondition(
            "model " + ref + ": cannot change approval from " + ApprovalStatusName(from) + " to " +
            ApprovalStatusName(approval.status) +
            (from == approval.status ? " (it already is)" : "") +
            " (allowed: PendingManualApproval→Approved|Rejected, Approved→Rejected, "
            "Rejected→Approved)");
      const std::string now = Now();
      VQI_ASSIGN_OR_RETURN(sqlite::Stmt u,
                           db_.Prepare("UPDATE model_versions SET status = ?3, status_changed = ?4 "
                                       "WHERE group_name = ?1 AND version = ?2"));
      u.Bind(1, group).Bind(2, version).Bind(3, ApprovalStatusName(approval.status)).Bind(4, now);
      VQI_RETURN_IF_ERROR(u.Run());
      VQI_RETURN_IF_ERROR(AppendEvent(group, version, ApprovalStatusName(from), approval.status,
                                      approval.actor, now, approval.reason));
      e = {db_.LastInsertRowId(), group,          version, ApprovalStatusName(from),
           approval.status,       approval.actor, now,     approval.reason};
      return Status::Ok();
    }));
    return e;
  }

  Result<std::vector<ApprovalEvent>> History(const std::string& group, int64_t version) override {
    VQI_RETURN_IF_ERROR(ValidateGroupName(group));
    VQI_RETURN_IF_ERROR(RequireVersion(group, version));
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt s,
                         db_.Prepare("SELECT seq, from_status, to_status, actor, time, reason "
                                     "FROM approval_events WHERE group_name = ?1 AND version = ?2 "
                                     "ORDER BY seq"));
    s.Bind(1, group).Bind(2, version);
    std::vector<ApprovalEvent> out;
    while (true) {
      VQI_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      VQI_ASSIGN_OR_RETURN(ApprovalStatus to, ParseStored(s.Text(2), "approval_events.to_status"));
      out.push_back({s.Int(0), group, version, s.Text(1), to, s.Text(3), s.Text(4), s.Text(5)});
    }
    return out;
  }

  Result<std::set<std::string>> ReferencedDigests() override {
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt s,
                         db_.Prepare("SELECT DISTINCT digest FROM model_artifacts"));
    std::set<std::string> out;
    while (true) {
      VQI_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.insert(s.Text(0));
    }
    return out;
  }

 private:
  std::string Now() { return Rfc3339(clock_->NowMs()); }

  static Status ValidateActor(const std::string& actor, const char* field) {
    if (actor.empty()) return InvalidArgument(std::string(field) + " is empty (who decides?)");
    return ValidateText(field, actor, kMaxActorBytes);
  }

  Result<ApprovalStatus> ParseStored(const std::string& s, const char* column) {
    auto r = ParseApprovalStatus(s);
    if (!r.ok()) return DataLoss(db_.path() + ": " + column + ": " + r.status().message());
    return r;
  }

  Status AppendEvent(const std::string& group, int64_t version, const std::string& from,
                     ApprovalStatus to, const std::string& actor, const std::string& time,
                     const std::string& reason) {
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt e,
                         db_.Prepare("INSERT INTO approval_events (group_name, version, "
                                     "from_status, to_status, actor, time, reason) "
                                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
    e.Bind(1, group).Bind(2, version).Bind(3, from).Bind(4, ApprovalStatusName(to));
    e.Bind(5, actor).Bind(6, time).Bind(7, reason);
    return e.Run();
  }

  // NotFound naming the existing groups (at most 20).
  Status RequireGroup(const std::string& group) {
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt s, db_.Prepare("SELECT 1 FROM model_groups WHERE name = ?1"));
    s.Bind(1, group);
    VQI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (row) return Status::Ok();
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt all,
                         db_.Prepare("SELECT name FROM model_groups ORDER BY name LIMIT 21"));
    std::string names;
    int n = 0;
    while (true) {
      VQI_ASSIGN_OR_RETURN(bool r, all.Step());
      if (!r) break;
      if (++n > 20) {
        names += ", ...";
        break;
      }
      names += (names.empty() ? "" : ", ") + all.Text(0);
    }
    return NotFound("model group '" + group + "' does not exist (" +
                    (names.empty() ? std::string("there are no groups yet") : "groups: " + names) +
                    ")");
  }

  // NotFound naming the group's version range.
  Status RequireVersion(const std::string& group, int64_t version) {
    VQI_RETURN_IF_ERROR(RequireGroup(group));
    VQI_ASSIGN_OR_RETURN(
        sqlite::Stmt s, db_.Prepare("SELECT MIN(version), MAX(version), "
                                    "SUM(version = ?2) FROM model_versions WHERE group_name = ?1"));
    s.Bind(1, group).Bind(2, version);
    VQI_ASSIGN_OR_RETURN(bool row, s.Step());
    if (row && !s.IsNull(2) && s.Int(2) > 0) return Status::Ok();
    const std::string ref = group + "/" + std::to_string(version);
    if (!row || s.IsNull(0))
      return NotFound("model " + ref + " does not exist (the group has no versions)");
    return NotFound("model " + ref + " does not exist (versions " + std::to_string(s.Int(0)) +
                    ".." + std::to_string(s.Int(1)) + ")");
  }

  Result<ModelVersion> ReadVersion(const sqlite::Stmt& s) {
    ModelVersion mv;
    mv.group = s.Text(0);
    mv.version = s.Int(1);
    mv.description = s.Text(2);
    VQI_ASSIGN_OR_RETURN(mv.status, ParseStored(s.Text(3), "model_versions.status"));
    mv.status_changed = s.Text(4);
    mv.created = s.Text(5);
    mv.created_by = s.Text(6);
    VQI_ASSIGN_OR_RETURN(mv.metrics,
                         ParseJson(s.Text(7), db_.path() + " " + mv.Ref() + " metrics"));
    mv.lineage.dataset = s.Text(8);
    mv.lineage.split = s.Text(9);
    mv.lineage.split_digest = s.Text(10);
    VQI_ASSIGN_OR_RETURN(mv.lineage.train_config,
                         ParseJson(s.Text(11), db_.path() + " " + mv.Ref() + " train_config"));
    mv.lineage.source_revision = s.Text(12);
    mv.lineage.parent = s.Text(13);
    mv.lineage.run_id = s.Text(14);
    return mv;
  }

  Status LoadArtifacts(ModelVersion* mv) {
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt s,
                         db_.Prepare("SELECT name, digest, size, media_type FROM model_artifacts "
                                     "WHERE group_name = ?1 AND version = ?2 ORDER BY name"));
    s.Bind(1, mv->group).Bind(2, mv->version);
    while (true) {
      VQI_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      mv->artifacts.push_back({s.Text(0), s.Text(1), s.Int(2), s.Text(3)});
    }
    return Status::Ok();
  }

  sqlite::Db db_;
  Clock* clock_;
};

}  // namespace

std::string RegistryDbPath(const std::string& home) { return home + "/registry/registry.db"; }
std::string ArtifactsDir(const std::string& home) { return home + "/artifacts"; }

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const SqliteStoreOptions& options) {
  if (options.create) {
    const size_t slash = path.rfind('/');
    if (slash != std::string::npos && slash > 0)
      VQI_RETURN_IF_ERROR(MakeDirs(path.substr(0, slash)));
  }
  sqlite::OpenOptions o;
  o.create = options.create;
  VQI_ASSIGN_OR_RETURN(sqlite::Db db, sqlite::Db::Open(path, o));
  VQI_RETURN_IF_ERROR(db.Migrate({{1, kSchemaV1, nullptr}}));
  Clock* clock = options.clock ? options.clock : &RealClock();
  return std::unique_ptr<Store>(new SqliteStore(std::move(db), clock));
}

}  // namespace vqi::registry
