// ResultStore on SQLite (libs/sqlite): results, thing_counters (docs/design/results.md).
#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <set>

#include "vqi/base/file.h"
#include "vqi/results/store.h"
#include "vqi/sqlite/sqlite.h"

namespace vqi::results {
namespace {

constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE results(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  thing TEXT NOT NULL,
  component TEXT NOT NULL,
  verdict TEXT NOT NULL,
  uncertain INTEGER NOT NULL,
  timestamp TEXT NOT NULL,
  received TEXT NOT NULL,
  received_ms INTEGER NOT NULL,
  model_name TEXT NOT NULL,
  model_version TEXT NOT NULL,
  image_name TEXT NOT NULL,
  total_ms REAL NOT NULL,
  model_ms REAL NOT NULL,
  payload TEXT NOT NULL);
CREATE INDEX results_thing ON results(thing, seq);
CREATE INDEX results_received ON results(received_ms);
CREATE TABLE thing_counters(
  thing TEXT PRIMARY KEY,
  images INTEGER NOT NULL DEFAULT 0,
  pass INTEGER NOT NULL DEFAULT 0,
  fail INTEGER NOT NULL DEFAULT 0,
  error INTEGER NOT NULL DEFAULT 0,
  uncertain INTEGER NOT NULL DEFAULT 0,
  duplicates INTEGER NOT NULL DEFAULT 0,
  refused INTEGER NOT NULL DEFAULT 0,
  sum_total_ms REAL NOT NULL DEFAULT 0,
  timed_total INTEGER NOT NULL DEFAULT 0,
  sum_model_ms REAL NOT NULL DEFAULT 0,
  timed_model INTEGER NOT NULL DEFAULT 0,
  first_seen TEXT NOT NULL DEFAULT '',
  last_seen TEXT NOT NULL DEFAULT '',
  last_seen_ms INTEGER NOT NULL DEFAULT 0,
  last_model_name TEXT NOT NULL DEFAULT '',
  last_model_version TEXT NOT NULL DEFAULT '');
)sql";

// Drift (docs/design/results.md "Drift"): the thing's last drift report and alert state, and
// the alert messages (kept per thing like results, for de-duplication and history).
constexpr const char* kSchemaV2 = R"sql(
ALTER TABLE thing_counters ADD COLUMN drift_score REAL NOT NULL DEFAULT -1;
ALTER TABLE thing_counters ADD COLUMN drift_feature TEXT NOT NULL DEFAULT '';
ALTER TABLE thing_counters ADD COLUMN drift_window INTEGER NOT NULL DEFAULT 0;
ALTER TABLE thing_counters ADD COLUMN drift_alert INTEGER NOT NULL DEFAULT 0;
ALTER TABLE thing_counters ADD COLUMN drift_at TEXT NOT NULL DEFAULT '';
ALTER TABLE thing_counters ADD COLUMN drift_device_time TEXT NOT NULL DEFAULT '';
ALTER TABLE thing_counters ADD COLUMN drift_alert_changed TEXT NOT NULL DEFAULT '';
ALTER TABLE thing_counters ADD COLUMN drift_alerts INTEGER NOT NULL DEFAULT 0;
CREATE TABLE drift_alerts(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  thing TEXT NOT NULL,
  component TEXT NOT NULL,
  raised INTEGER NOT NULL,
  score REAL NOT NULL,
  feature TEXT NOT NULL,
  timestamp TEXT NOT NULL,
  received TEXT NOT NULL,
  payload TEXT NOT NULL);
CREATE INDEX drift_alerts_thing ON drift_alerts(thing, seq);
)sql";

constexpr const char* kResultColumns =
    "seq, id, thing, component, verdict, uncertain, timestamp, received, received_ms, "
    "model_name, model_version, image_name, total_ms, model_ms, payload";

std::string FormatTimeMs(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

// The thing's last drift report: score, feature, window, alert, server time, device time, thing.
// Results and alert messages reach the store in separate streams (an ingest batch stores its
// results before its alerts), so a report older than the one stored (by the device's clock,
// RFC 3339 of one width) does not replace it.
// A report whose alert differs from the stored state also moves drift_alert_changed (a restarted
// device starts cleared and sends no "cleared" message; its results do clear the state).
constexpr const char* kSetDrift =
    "UPDATE thing_counters SET drift_score = ?1, drift_feature = ?2, drift_window = ?3, "
    "drift_alert = ?4, drift_at = ?5, drift_device_time = ?6, "
    "drift_alert_changed = CASE WHEN drift_alert != ?4 "
    "THEN (CASE WHEN ?6 = '' THEN ?5 ELSE ?6 END) ELSE drift_alert_changed END "
    "WHERE thing = ?7 AND (?6 = '' OR drift_device_time <= ?6)";

StoredResult RowToResult(const sqlite::Stmt& s) {
  StoredResult r;
  r.seq = s.Int(0);
  r.id = s.Text(1);
  r.thing = s.Text(2);
  r.component = s.Text(3);
  r.verdict = s.Text(4);
  r.uncertain = s.Int(5) != 0;
  r.timestamp = s.Text(6);
  r.received = s.Text(7);
  r.received_ms = s.Int(8);
  r.model_name = s.Text(9);
  r.model_version = s.Text(10);
  r.image_name = s.Text(11);
  r.total_ms = s.Real(12);
  r.model_ms = s.Real(13);
  r.payload = s.Text(14);
  return r;
}

Status CheckQuery(const ResultQuery& q) {
  if (q.limit < 1 || q.limit > 10000)
    return InvalidArgument("limit: " + std::to_string(q.limit) + " is out of range [1, 10000]");
  if (!q.verdict.empty() && q.verdict != "pass" && q.verdict != "fail" && q.verdict != "error")
    return InvalidArgument("verdict: '" + q.verdict + "'; accepted: pass, fail, error");
  if (q.since_ms < 0 || q.after_seq < 0)
    return InvalidArgument("since and after must not be negative");
  return Status::Ok();
}

// The p95 (nearest rank) of `v`; -1 when empty.
double P95(std::vector<double> v) {
  if (v.empty()) return -1;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(std::ceil(0.95 * static_cast<double>(v.size())));
  return v[std::max<size_t>(rank, 1) - 1];
}

class SqliteResultStore : public ResultStore {
 public:
  SqliteResultStore(sqlite::Db db, const ResultStoreOptions& o)
      : db_(std::move(db)), retention_(o.retention), clock_(o.clock ? o.clock : &RealClock()) {}

  Result<std::vector<AddOutcome>> AddBatch(const std::vector<ParsedResult>& batch) override {
    std::vector<AddOutcome> out;
    Status st = db_.InTransaction([&]() -> Status {
      out.clear();
      const int64_t now = clock_->NowMs();
      const std::string received = FormatTimeMs(now);
      VQI_ASSIGN_OR_RETURN(
          sqlite::Stmt ins,
          db_.Prepare("INSERT INTO results(id, thing, component, verdict, uncertain, timestamp, "
                      "received, received_ms, model_name, model_version, image_name, total_ms, "
                      "model_ms, payload) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
                      "ON CONFLICT(id) DO NOTHING"));
      VQI_ASSIGN_OR_RETURN(sqlite::Stmt ensure,
                           db_.Prepare("INSERT INTO thing_counters(thing, first_seen) VALUES(?, ?) "
                                       "ON CONFLICT(thing) DO NOTHING"));
      VQI_ASSIGN_OR_RETURN(sqlite::Stmt dup,
                           db_.Prepare("UPDATE thing_counters SET duplicates = duplicates + 1, "
                                       "last_seen = ?, last_seen_ms = ? WHERE thing = ?"));
      VQI_ASSIGN_OR_RETURN(
          sqlite::Stmt upd,
          db_.Prepare("UPDATE thing_counters SET images = images + 1, pass = pass + ?, "
                      "fail = fail + ?, error = error + ?, uncertain = uncertain + ?, "
                      "sum_total_ms = sum_total_ms + ?, timed_total = timed_total + ?, "
                      "sum_model_ms = sum_model_ms + ?, timed_model = timed_model + ?, "
                      "last_seen = ?, last_seen_ms = ?, "
                      "last_model_name = CASE WHEN ? = '' THEN last_model_name ELSE ? END, "
                      "last_model_version = CASE WHEN ? = '' THEN last_model_version ELSE ? END "
                      "WHERE thing = ?"));
      VQI_ASSIGN_OR_RETURN(sqlite::Stmt drift, db_.Prepare(kSetDrift));
      std::set<std::string> touched;
      for (const ParsedResult& r : batch) {
        ensure.Reset();
        VQI_RETURN_IF_ERROR(ensure.Bind(1, r.thing).Bind(2, received).Run());
        ins.Reset();
        VQI_RETURN_IF_ERROR(ins.Bind(1, r.id)
                                .Bind(2, r.thing)
                                .Bind(3, r.component)
                                .Bind(4, r.verdict)
                                .Bind(5, r.uncertain ? 1 : 0)
                                .Bind(6, r.timestamp)
                                .Bind(7, received)
                                .Bind(8, now)
                                .Bind(9, r.model_name)
                                .Bind(10, r.model_version)
                                .Bind(11, r.image_name)
                                .Bind(12, r.total_ms)
                                .Bind(13, r.model_ms)
                                .Bind(14, r.payload)
                                .Run());
        if (db_.Changes() == 0) {
          dup.Reset();
          VQI_RETURN_IF_ERROR(dup.Bind(1, received).Bind(2, now).Bind(3, r.thing).Run());
          out.push_back(AddOutcome::kDuplicate);
          continue;
        }
        out.push_back(AddOutcome::kStored);
        touched.insert(r.thing);
        if (r.drift) {
          drift.Reset();
          VQI_RETURN_IF_ERROR(drift.Bind(1, r.drift->score)
                                  .Bind(2, r.drift->feature)
                                  .Bind(3, r.drift->window)
                                  .Bind(4, r.drift->alert ? 1 : 0)
                                  .Bind(5, received)
                                  .Bind(6, r.timestamp)
                                  .Bind(7, r.thing)
                                  .Run());
        }
        ++inserts_since_check_;
        const bool timed_total = r.total_ms >= 0, timed_model = r.model_ms >= 0;
        upd.Reset();
        VQI_RETURN_IF_ERROR(upd.Bind(1, r.verdict == "pass" ? 1 : 0)
                                .Bind(2, r.verdict == "fail" ? 1 : 0)
                                .Bind(3, r.verdict == "error" ? 1 : 0)
                                .Bind(4, r.uncertain ? 1 : 0)
                                .Bind(5, timed_total ? r.total_ms : 0.0)
                                .Bind(6, timed_total ? 1 : 0)
                                .Bind(7, timed_model ? r.model_ms : 0.0)
                                .Bind(8, timed_model ? 1 : 0)
                                .Bind(9, received)
                                .Bind(10, now)
                                .Bind(11, r.model_name)
                                .Bind(12, r.model_name)
                                .Bind(13, r.model_version)
                                .Bind(14, r.model_version)
                                .Bind(15, r.thing)
                                .Run());
      }
      return ApplyRetention(touched);
    });
    if (!st.ok()) return st;
    return out;
  }

  Result<std::vector<AddOutcome>> AddDriftAlerts(const std::vector<ParsedDrift>& alerts) override {
    std::vector<AddOutcome> out;
    Status st = db_.InTransaction([&]() -> Status {
      out.clear();
      const std::string received = FormatTimeMs(clock_->NowMs());
      VQI_ASSIGN_OR_RETURN(
          sqlite::Stmt ins,
          db_.Prepare("INSERT INTO drift_alerts(id, thing, component, raised, score, feature, "
                      "timestamp, received, payload) VALUES(?,?,?,?,?,?,?,?,?) "
                      "ON CONFLICT(id) DO NOTHING"));
      VQI_ASSIGN_OR_RETURN(sqlite::Stmt ensure,
                           db_.Prepare("INSERT INTO thing_counters(thing, first_seen) VALUES(?, ?) "
                                       "ON CONFLICT(thing) DO NOTHING"));
      VQI_ASSIGN_OR_RETURN(sqlite::Stmt drift, db_.Prepare(kSetDrift));
      VQI_ASSIGN_OR_RETURN(sqlite::Stmt changed,
                           db_.Prepare("UPDATE thing_counters SET drift_alert_changed = ?, "
                                       "drift_alerts = drift_alerts + ? WHERE thing = ?"));
      VQI_ASSIGN_OR_RETURN(
          sqlite::Stmt keep,
          db_.Prepare("DELETE FROM drift_alerts WHERE thing = ?1 AND seq <= (SELECT seq FROM "
                      "drift_alerts WHERE thing = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2)"));
      for (const ParsedDrift& d : alerts) {
        ins.Reset();
        VQI_RETURN_IF_ERROR(ins.Bind(1, d.id)
                                .Bind(2, d.thing)
                                .Bind(3, d.component)
                                .Bind(4, d.raised ? 1 : 0)
                                .Bind(5, d.drift.score)
                                .Bind(6, d.drift.feature)
                                .Bind(7, d.timestamp)
                                .Bind(8, received)
                                .Bind(9, d.payload)
                                .Run());
        if (db_.Changes() == 0) {
          out.push_back(AddOutcome::kDuplicate);
          continue;
        }
        out.push_back(AddOutcome::kStored);
        ensure.Reset();
        VQI_RETURN_IF_ERROR(ensure.Bind(1, d.thing).Bind(2, received).Run());
        drift.Reset();
        VQI_RETURN_IF_ERROR(drift.Bind(1, d.drift.score)
                                .Bind(2, d.drift.feature)
                                .Bind(3, d.drift.window)
                                .Bind(4, d.raised ? 1 : 0)
                                .Bind(5, received)
                                .Bind(6, d.timestamp)
                                .Bind(7, d.thing)
                                .Run());
        changed.Reset();
        VQI_RETURN_IF_ERROR(changed.Bind(1, d.timestamp.empty() ? received : d.timestamp)
                                .Bind(2, d.raised ? 1 : 0)
                                .Bind(3, d.thing)
                                .Run());
        keep.Reset();
        VQI_RETURN_IF_ERROR(keep.Bind(1, d.thing).Bind(2, retention_.keep_per_thing).Run());
      }
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return out;
  }

  Status CountRefused(const std::string& thing, int64_t n) override {
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt s,
                         db_.Prepare("INSERT INTO thing_counters(thing, refused) VALUES(?, ?) "
                                     "ON CONFLICT(thing) DO UPDATE SET refused = refused + ?"));
    return s.Bind(1, thing).Bind(2, n).Bind(3, n).Run();
  }

  Result<std::vector<StoredResult>> Recent(const ResultQuery& q) override {
    return Select(q, /*newest_first=*/true);
  }
  Result<std::vector<StoredResult>> After(const ResultQuery& q) override {
    return Select(q, /*newest_first=*/false);
  }

  Result<int64_t> LastSequence() override {
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt s, db_.Prepare("SELECT coalesce(max(seq), 0) FROM results"));
    VQI_ASSIGN_OR_RETURN(bool row, s.Step());
    return row ? s.Int(0) : 0;
  }

  Result<ThingCounters> Counters(const std::string& thing) override {
    VQI_ASSIGN_OR_RETURN(auto all, ReadCounters(thing));
    if (all.empty()) return NotFound("no results from thing '" + thing + "'");
    return all.front();
  }
  Result<std::vector<ThingCounters>> AllCounters() override { return ReadCounters(""); }

 private:
  Status ApplyRetention(const std::set<std::string>& touched) {
    VQI_ASSIGN_OR_RETURN(
        sqlite::Stmt per,
        db_.Prepare("DELETE FROM results WHERE thing = ?1 AND seq <= (SELECT seq FROM results "
                    "WHERE thing = ?1 ORDER BY seq DESC LIMIT 1 OFFSET ?2)"));
    for (const std::string& t : touched) {
      per.Reset();
      VQI_RETURN_IF_ERROR(per.Bind(1, t).Bind(2, retention_.keep_per_thing).Run());
    }
    if (inserts_since_check_ >= retention_.total_check_every) {
      inserts_since_check_ = 0;
      VQI_ASSIGN_OR_RETURN(sqlite::Stmt total,
                           db_.Prepare("DELETE FROM results WHERE seq <= (SELECT seq FROM results "
                                       "ORDER BY seq DESC LIMIT 1 OFFSET ?)"));
      VQI_RETURN_IF_ERROR(total.Bind(1, retention_.max_total).Run());
    }
    return Status::Ok();
  }

  Result<std::vector<StoredResult>> Select(const ResultQuery& q, bool newest_first) {
    VQI_RETURN_IF_ERROR(CheckQuery(q));
    std::string sql = std::string("SELECT ") + kResultColumns +
                      " FROM results WHERE (?1 = '' OR thing = ?1) AND (?2 = '' OR verdict = ?2) "
                      "AND received_ms >= ?3";
    if (!newest_first) sql += " AND seq > ?4";
    sql += newest_first ? " ORDER BY seq DESC LIMIT ?5" : " ORDER BY seq ASC LIMIT ?5";
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt s, db_.Prepare(sql));
    s.Bind(1, q.thing).Bind(2, q.verdict).Bind(3, q.since_ms).Bind(5, q.limit);
    if (!newest_first) s.Bind(4, q.after_seq);
    std::vector<StoredResult> out;
    for (;;) {
      VQI_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      out.push_back(RowToResult(s));
    }
    return out;
  }

  Result<std::vector<ThingCounters>> ReadCounters(const std::string& thing) {
    VQI_ASSIGN_OR_RETURN(
        sqlite::Stmt s,
        db_.Prepare("SELECT thing, images, pass, fail, error, uncertain, duplicates, refused, "
                    "sum_total_ms, timed_total, sum_model_ms, timed_model, first_seen, last_seen, "
                    "last_model_name, last_model_version, drift_score, drift_feature, "
                    "drift_window, drift_alert, drift_at, drift_alert_changed, drift_alerts "
                    "FROM thing_counters "
                    "WHERE ?1 = '' OR thing = ?1 ORDER BY thing"));
    s.Bind(1, thing);
    std::vector<ThingCounters> out;
    for (;;) {
      VQI_ASSIGN_OR_RETURN(bool row, s.Step());
      if (!row) break;
      ThingCounters c;
      c.thing = s.Text(0);
      c.images = s.Int(1);
      c.pass = s.Int(2);
      c.fail = s.Int(3);
      c.error = s.Int(4);
      c.uncertain = s.Int(5);
      c.duplicates = s.Int(6);
      c.refused = s.Int(7);
      if (s.Int(9) > 0) c.mean_total_ms = s.Real(8) / static_cast<double>(s.Int(9));
      if (s.Int(11) > 0) c.mean_model_ms = s.Real(10) / static_cast<double>(s.Int(11));
      c.first_seen = s.Text(12);
      c.last_seen = s.Text(13);
      c.last_model_name = s.Text(14);
      c.last_model_version = s.Text(15);
      c.drift_score = s.Real(16);
      c.drift_feature = s.Text(17);
      c.drift_window = s.Int(18);
      c.drift_alert = s.Int(19) != 0;
      c.drift_at = s.Text(20);
      c.drift_alert_changed = s.Text(21);
      c.drift_alerts = s.Int(22);
      out.push_back(std::move(c));
    }
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt t, db_.Prepare("SELECT total_ms, model_ms FROM results "
                                                     "WHERE thing = ?"));
    for (ThingCounters& c : out) {
      std::vector<double> total, model;
      t.Reset();
      t.Bind(1, c.thing);
      for (;;) {
        VQI_ASSIGN_OR_RETURN(bool row, t.Step());
        if (!row) break;
        ++c.retained;
        if (t.Real(0) >= 0) total.push_back(t.Real(0));
        if (t.Real(1) >= 0) model.push_back(t.Real(1));
      }
      c.p95_total_ms = P95(std::move(total));
      c.p95_model_ms = P95(std::move(model));
    }
    return out;
  }

  sqlite::Db db_;
  RetentionPolicy retention_;
  Clock* clock_;
  int64_t inserts_since_check_ = 0;
};

Status CheckRetention(const RetentionPolicy& r) {
  if (r.keep_per_thing < 1 || r.keep_per_thing > 10000000)
    return InvalidArgument("retention keep_per_thing: " + std::to_string(r.keep_per_thing) +
                           " is out of range [1, 10000000]");
  if (r.max_total < 1 || r.max_total > 1000000000)
    return InvalidArgument("retention max_total: " + std::to_string(r.max_total) +
                           " is out of range [1, 1000000000]");
  if (r.total_check_every < 1)
    return InvalidArgument("retention total_check_every must be at least 1");
  return Status::Ok();
}

}  // namespace

Result<AddOutcome> ResultStore::Add(const ParsedResult& r) {
  VQI_ASSIGN_OR_RETURN(auto v, AddBatch({r}));
  return v.front();
}

std::string ResultsDbPath(const std::string& home) { return home + "/results/results.db"; }

Result<std::unique_ptr<ResultStore>> OpenSqliteResultStore(const std::string& path,
                                                           const ResultStoreOptions& options) {
  VQI_RETURN_IF_ERROR(CheckRetention(options.retention));
  if (options.create) {
    const std::string dir = std::filesystem::path(path).parent_path().string();
    if (!dir.empty()) VQI_RETURN_IF_ERROR(MakeDirs(dir));
  }
  sqlite::OpenOptions o;
  o.create = options.create;
  VQI_ASSIGN_OR_RETURN(sqlite::Db db, sqlite::Db::Open(path, o));
  VQI_RETURN_IF_ERROR(db.Migrate({{1, kSchemaV1, nullptr}, {2, kSchemaV2, nullptr}})
                          .WithContext("results store " + path));
  return std::unique_ptr<ResultStore>(new SqliteResultStore(std::move(db), options));
}

Json StoredResultToJson(const StoredResult& r) {
  Json j;
  auto parsed = ParseJson(r.payload, "stored result " + r.id);
  j = parsed.ok() && parsed->is_object() ? std::move(*parsed) : Json::object();
  j["seq"] = r.seq;
  j["received"] = r.received;
  return j;
}

Json ThingCountersToJson(const ThingCounters& c) {
  auto ms = [](double v) { return v < 0 ? Json(nullptr) : Json(std::round(v * 1000) / 1000); };
  return Json{{"thing", c.thing},
              {"images", c.images},
              {"pass", c.pass},
              {"fail", c.fail},
              {"error", c.error},
              {"uncertain", c.uncertain},
              {"duplicates", c.duplicates},
              {"refused", c.refused},
              {"meanModelMs", ms(c.mean_model_ms)},
              {"p95ModelMs", ms(c.p95_model_ms)},
              {"meanTotalMs", ms(c.mean_total_ms)},
              {"p95TotalMs", ms(c.p95_total_ms)},
              {"firstSeen", c.first_seen},
              {"lastSeen", c.last_seen},
              {"lastModel", {{"name", c.last_model_name}, {"version", c.last_model_version}}},
              {"retained", c.retained},
              {"drift", c.drift_score < 0 ? Json(nullptr)
                                          : Json{{"score", std::round(c.drift_score * 1000) / 1000},
                                                 {"feature", c.drift_feature},
                                                 {"window", c.drift_window},
                                                 {"alert", c.drift_alert},
                                                 {"at", c.drift_at},
                                                 {"alertChanged", c.drift_alert_changed},
                                                 {"alertsRaised", c.drift_alerts}}}};
}

Result<int64_t> ParseRfc3339Ms(const std::string& text) {
  std::tm tm{};
  int ms = 0;
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (end != nullptr && *end == '.') {
    int digits = 0;
    ++end;
    while (*end >= '0' && *end <= '9') {
      if (digits < 3) ms = ms * 10 + (*end - '0');
      ++digits;
      ++end;
    }
    if (digits == 0) end = nullptr;
    for (; digits > 0 && digits < 3; ++digits) ms *= 10;
  }
  if (end == nullptr || std::string_view(end) != "Z")
    return InvalidArgument("time '" + text +
                           "': expected RFC 3339 UTC, e.g. 2026-12-06T10:00:00Z or "
                           "2026-12-06T10:00:00.123Z");
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

}  // namespace vqi::results
