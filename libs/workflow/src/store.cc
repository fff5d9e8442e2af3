// SQLite execution store (see store.h).
#include "vqi/workflow/store.h"

#include <sqlite3.h>

#include <unordered_map>

namespace vqi::workflow {
namespace {

const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS executions(
  id TEXT PRIMARY KEY, name TEXT UNIQUE, state_machine TEXT, definition TEXT, input TEXT,
  status TEXT, output TEXT, error TEXT, cause TEXT, start_ms INTEGER, stop_ms INTEGER,
  stop_requested INTEGER DEFAULT 0);
CREATE TABLE IF NOT EXISTS journal(exec TEXT, key TEXT, value TEXT, PRIMARY KEY(exec, key))
  WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events(exec TEXT, id INTEGER, previous INTEGER, type TEXT,
  ts INTEGER, details TEXT, PRIMARY KEY(exec, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tokens(token TEXT PRIMARY KEY, exec TEXT, key TEXT, status TEXT,
  outcome TEXT, heartbeat_ms INTEGER DEFAULT 0);
)";

// A prepared statement, finalized on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& BindNull(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  int Step() { return sqlite3_step(s_); }
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  std::string Text(int c) {
    const unsigned char* t = sqlite3_column_text(s_, c);
    return t == nullptr ? "" : std::string(reinterpret_cast<const char*>(t));
  }
  bool IsNull(int c) { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
  int64_t Int(int c) { return sqlite3_column_int64(s_, c); }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_;
};

Status SqlError(sqlite3* db, const std::string& what) {
  return Unavailable("workflow store: " + what + ": " + sqlite3_errmsg(db));
}

Json ParseOr(const std::string& s, Json fallback = Json()) {
  if (s.empty()) return fallback;
  auto j = ParseJson(s);
  return j.ok() ? *j : fallback;
}

ExecutionRecord ReadRecord(Stmt& q) {
  ExecutionRecord r;
  r.id = q.Text(0);
  r.name = q.Text(1);
  r.state_machine = q.Text(2);
  r.definition = q.Text(3);
  r.input = ParseOr(q.Text(4));
  r.status = q.Text(5);
  r.output = ParseOr(q.Text(6));
  if (!q.IsNull(7)) r.error = q.Text(7);
  if (!q.IsNull(8)) r.cause = q.Text(8);
  r.start_ms = q.Int(9);
  r.stop_ms = q.Int(10);
  r.stop_requested = q.Int(11) != 0;
  return r;
}

constexpr const char* kSelect =
    "SELECT id,name,state_machine,definition,input,status,output,error,cause,start_ms,stop_ms,"
    "stop_requested FROM executions ";

// The journal of one execution: an in-memory map of recorded visits plus a buffer of
// records/events not yet committed.
class SqliteJournal : public Journal {
 public:
  SqliteJournal(ExecutionStore* store, std::string exec) : store_(store), exec_(std::move(exec)) {}

  Status Load() {
    std::lock_guard<std::mutex> lock(store_->mu());
    Stmt q(store_->db(), "SELECT key, value FROM journal WHERE exec = ?");
    q.Bind(1, exec_);
    while (q.Step() == SQLITE_ROW) {
      auto j = ParseJson(q.Text(1), "journal");
      if (!j.ok()) return DataLoss("workflow store: damaged journal entry " + q.Text(0));
      map_[q.Text(0)] = std::move(*j);
    }
    return Status::Ok();
  }

  std::optional<Json> Lookup(const std::string& key) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = map_.find(key);
    if (it == map_.end()) return std::nullopt;
    return it->second;
  }

  void Record(const std::string& key, const Json& value) override {
    bool flush;
    {
      std::lock_guard<std::mutex> lock(mu_);
      // Keys are unique per run: only visits loaded at open are ever looked up.
      records_.emplace_back(key, value.dump());
      flush = store_->durability() == Durability::kEveryTransition || records_.size() >= 4096;
    }
    if (flush) (void)Sync();
  }

  void AppendEvent(const HistoryEvent& e) override {
    PendingEvent p{e.id, e.previous_event_id, e.type, e.timestamp_ms, e.details.dump()};
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(p));
  }

  Status Sync() override {
    std::vector<std::pair<std::string, std::string>> records;
    std::vector<PendingEvent> events;
    {
      std::lock_guard<std::mutex> lock(mu_);
      records.swap(records_);
      events.swap(events_);
    }
    if (records.empty() && events.empty()) return Status::Ok();
    std::lock_guard<std::mutex> lock(store_->mu());
    VQI_RETURN_IF_ERROR(store_->Exec("BEGIN IMMEDIATE"));
    Stmt put(store_->db(), "INSERT OR REPLACE INTO journal(exec,key,value) VALUES(?,?,?)");
    for (auto& [k, v] : records) {
      put.Bind(1, exec_).Bind(2, k).Bind(3, v);
      if (put.Step() != SQLITE_DONE) {
        (void)store_->Exec("ROLLBACK");
        return SqlError(store_->db(), "journal write");
      }
      put.Reset();
    }
    Stmt ev(store_->db(),
            "INSERT OR REPLACE INTO events(exec,id,previous,type,ts,details) VALUES(?,?,?,?,?,?)");
    for (const PendingEvent& e : events) {
      ev.Bind(1, exec_).Bind(2, e.id).Bind(3, e.previous).Bind(4, e.type);
      ev.Bind(5, e.ts).Bind(6, e.details);
      if (ev.Step() != SQLITE_DONE) {
        (void)store_->Exec("ROLLBACK");
        return SqlError(store_->db(), "event write");
      }
      ev.Reset();
    }
    return store_->Exec("COMMIT");
  }

  Status RegisterToken(const std::string& token, const std::string& key) override {
    std::lock_guard<std::mutex> lock(store_->mu());
    Stmt q(store_->db(),
           "INSERT OR IGNORE INTO tokens(token,exec,key,status,outcome) VALUES(?,?,?,'WAITING','')");
    q.Bind(1, token).Bind(2, exec_).Bind(3, key);
    if (q.Step() != SQLITE_DONE) return SqlError(store_->db(), "token write");
    return Status::Ok();
  }

  std::optional<Json> PollToken(const std::string& token) override {
    std::lock_guard<std::mutex> lock(store_->mu());
    Stmt q(store_->db(), "SELECT status, outcome, heartbeat_ms FROM tokens WHERE token = ?");
    q.Bind(1, token);
    if (q.Step() != SQLITE_ROW) return std::nullopt;
    Json out = ParseOr(q.Text(1), Json::object());
    if (!out.is_object()) out = Json::object();
    out["status"] = q.Text(0);
    out["heartbeat_ms"] = q.Int(2);
    return out;
  }

 private:
  ExecutionStore* store_;
  std::string exec_;
  std::mutex mu_;
  std::unordered_map<std::string, Json> map_;
  std::vector<std::pair<std::string, std::string>> records_;
  struct PendingEvent {
    int64_t id, previous;
    std::string type;
    int64_t ts;
    std::string details;
  };
  std::vector<PendingEvent> events_;
};

}  // namespace

Result<std::unique_ptr<ExecutionStore>> ExecutionStore::Open(const std::string& path,
                                                             Durability durability) {
  std::unique_ptr<ExecutionStore> s(new ExecutionStore());
  s->durability_ = durability;
  if (sqlite3_open(path.c_str(), &s->db_) != SQLITE_OK)
    return Unavailable("workflow store: cannot open " + path + ": " + sqlite3_errmsg(s->db_));
  sqlite3_busy_timeout(s->db_, 10000);
  VQI_RETURN_IF_ERROR(s->Exec("PRAGMA journal_mode=WAL"));
  VQI_RETURN_IF_ERROR(s->Exec(durability == Durability::kProcess ? "PRAGMA synchronous=NORMAL"
                                                                 : "PRAGMA synchronous=FULL"));
  VQI_RETURN_IF_ERROR(s->Exec(kSchema));
  return s;
}

ExecutionStore::~ExecutionStore() { sqlite3_close(db_); }

Status ExecutionStore::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err != nullptr ? err : "unknown error";
    sqlite3_free(err);
    return Unavailable("workflow store: " + m + " (" + sql.substr(0, 40) + ")");
  }
  return Status::Ok();
}

Result<ExecutionRecord> ExecutionStore::Create(const std::string& name,
                                               const std::string& state_machine,
                                               const std::string& definition, const Json& input,
                                               int64_t start_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  ExecutionRecord r;
  r.name = name;
  r.id = "arn:aws:states:local:111111111111:execution:" + state_machine + ":" + name;
  r.state_machine = state_machine;
  r.definition = definition;
  r.input = input;
  r.status = "RUNNING";
  r.start_ms = start_ms;
  Stmt q(db_,
         "INSERT INTO executions(id,name,state_machine,definition,input,status,start_ms,stop_ms)"
         " VALUES(?,?,?,?,?,'RUNNING',?,0)");
  q.Bind(1, r.id).Bind(2, name).Bind(3, state_machine).Bind(4, definition).Bind(5, input.dump());
  q.Bind(6, start_ms);
  int rc = q.Step();
  if (rc == SQLITE_CONSTRAINT) return AlreadyExists("execution '" + name + "' already exists");
  if (rc != SQLITE_DONE) return SqlError(db_, "create execution");
  return r;
}

Status ExecutionStore::Finish(const std::string& id, const ExecutionResult& result,
                              int64_t stop_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(db_, "UPDATE executions SET status=?, output=?, error=?, cause=?, stop_ms=? WHERE id=?");
  q.Bind(1, result.status).Bind(2, result.output.dump());
  if (result.error) q.Bind(3, *result.error); else q.BindNull(3);
  if (result.cause) q.Bind(4, *result.cause); else q.BindNull(4);
  q.Bind(5, stop_ms).Bind(6, id);
  if (q.Step() != SQLITE_DONE) return SqlError(db_, "finish execution");
  return Status::Ok();
}

Result<ExecutionRecord> ExecutionStore::Get(const std::string& id_or_name) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(db_, (std::string(kSelect) + "WHERE id = ? OR name = ?").c_str());
  q.Bind(1, id_or_name).Bind(2, id_or_name);
  if (q.Step() != SQLITE_ROW) return NotFound("no execution '" + id_or_name + "'");
  return ReadRecord(q);
}

Result<std::vector<ExecutionRecord>> ExecutionStore::List(const std::string& status_filter) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(db_, (std::string(kSelect) + "WHERE (? = '' OR status = ?) ORDER BY start_ms, name").c_str());
  q.Bind(1, status_filter).Bind(2, status_filter);
  std::vector<ExecutionRecord> out;
  while (q.Step() == SQLITE_ROW) out.push_back(ReadRecord(q));
  return out;
}

Result<std::vector<HistoryEvent>> ExecutionStore::History(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(db_, "SELECT id, previous, type, ts, details FROM events WHERE exec = ? ORDER BY id");
  q.Bind(1, id);
  std::vector<HistoryEvent> out;
  while (q.Step() == SQLITE_ROW) {
    HistoryEvent e;
    e.id = q.Int(0);
    e.previous_event_id = q.Int(1);
    e.type = q.Text(2);
    e.timestamp_ms = q.Int(3);
    e.details = ParseOr(q.Text(4), Json::object());
    out.push_back(std::move(e));
  }
  return out;
}

Result<int64_t> ExecutionStore::LastEventId(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(db_, "SELECT COALESCE(MAX(id), 0) FROM events WHERE exec = ?");
  q.Bind(1, id);
  if (q.Step() != SQLITE_ROW) return SqlError(db_, "last event");
  return q.Int(0);
}

Status ExecutionStore::RequestStop(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(db_, "UPDATE executions SET stop_requested = 1 WHERE id = ? OR name = ?");
  q.Bind(1, id).Bind(2, id);
  if (q.Step() != SQLITE_DONE) return SqlError(db_, "stop");
  if (sqlite3_changes(db_) == 0) return NotFound("no execution '" + id + "'");
  return Status::Ok();
}

Result<bool> ExecutionStore::StopRequested(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(db_, "SELECT stop_requested FROM executions WHERE id = ?");
  q.Bind(1, id);
  if (q.Step() != SQLITE_ROW) return NotFound("no execution '" + id + "'");
  return q.Int(0) != 0;
}

Status ExecutionStore::CompleteToken(const std::string& token, const Json& outcome) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(db_, "UPDATE tokens SET status = ?, outcome = ? WHERE token = ? AND status = 'WAITING'");
  q.Bind(1, outcome.value("status", "SUCCEEDED")).Bind(2, outcome.dump()).Bind(3, token);
  if (q.Step() != SQLITE_DONE) return SqlError(db_, "complete token");
  if (sqlite3_changes(db_) == 0)
    return NotFound("task token '" + token + "' is unknown or already completed");
  return Status::Ok();
}

Status ExecutionStore::HeartbeatToken(const std::string& token, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(db_, "UPDATE tokens SET heartbeat_ms = ? WHERE token = ? AND status = 'WAITING'");
  q.Bind(1, now_ms).Bind(2, token);
  if (q.Step() != SQLITE_DONE) return SqlError(db_, "heartbeat");
  if (sqlite3_changes(db_) == 0)
    return NotFound("task token '" + token + "' is unknown or already completed");
  return Status::Ok();
}

Result<std::unique_ptr<Journal>> ExecutionStore::OpenJournal(const std::string& id) {
  auto j = std::make_unique<SqliteJournal>(this, id);
  VQI_RETURN_IF_ERROR(j->Load());
  return std::unique_ptr<Journal>(std::move(j));
}

}  // namespace vqi::workflow
