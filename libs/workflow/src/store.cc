// SQLite execution store (see store.h).
#include "vqi/workflow/store.h"

#include <signal.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

namespace vqi::workflow {

// Schema version 2 added the lease (owner, lease_until, takeovers).
constexpr int kSchemaVersion = 2;

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

struct ExecutionStore::Impl {
  sqlite3* db = nullptr;
  std::mutex mu;
  Durability durability = Durability::kFull;
  std::string path;

  // The error of the last failed call, with SQLite's message (read before anything else
  // resets it). Corruption is DataLoss; the rest Unavailable.
  Status Error(const std::string& what) const {
    int code = sqlite3_errcode(db) & 0xff;
    std::string m = "workflow store " + path + ": " + what + ": " + sqlite3_errmsg(db);
    if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB)
      return DataLoss(m + " (the file is damaged)");
    if (code == SQLITE_FULL) return ResourceExhausted(m);
    return Unavailable(m);
  }
  Status Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string m = err != nullptr ? err : sqlite3_errmsg(db);
      sqlite3_free(err);
      int code = sqlite3_errcode(db) & 0xff;
      std::string msg = "workflow store " + path + ": " + m + " (" + sql.substr(0, 40) + ")";
      if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB)
        return DataLoss(msg + " (the file is damaged)");
      return Unavailable(msg);
    }
    return Status::Ok();
  }
};

namespace {

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
  // SQLITE_ERROR when the statement could not be prepared (the error is on the handle).
  int Step() { return s_ == nullptr ? SQLITE_ERROR : sqlite3_step(s_); }
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
  r.owner = q.Text(12);
  r.lease_until_ms = q.Int(13);
  r.takeovers = static_cast<int>(q.Int(14));
  return r;
}

constexpr const char* kSelect =
    "SELECT id,name,state_machine,definition,input,status,output,error,cause,start_ms,stop_ms,"
    "stop_requested,owner,lease_until,takeovers FROM executions ";

std::string HostName() {
  char h[256] = {0};
  if (gethostname(h, sizeof h - 1) != 0) return "localhost";
  return h;
}

// True when `owner` names a process of this host that no longer exists.
bool OwnerIsDead(const std::string& owner) {
  size_t a = owner.find(':');
  size_t b = a == std::string::npos ? a : owner.find(':', a + 1);
  if (b == std::string::npos || owner.substr(0, a) != HostName()) return false;
  long pid = std::strtol(owner.c_str() + a + 1, nullptr, 10);
  if (pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

// Reads the lease holder of `id` inside the caller's transaction.
Result<std::string> LeaseOwner(ExecutionStore::Impl& s, const std::string& id) {
  Stmt q(s.db, "SELECT owner FROM executions WHERE id = ?");
  q.Bind(1, id);
  int rc = q.Step();
  if (rc == SQLITE_ROW) return q.Text(0);
  if (rc == SQLITE_DONE) return NotFound("no execution '" + id + "'");
  return s.Error("lease");
}

// The journal of one execution: an in-memory map of recorded visits plus a buffer of
// records/events not yet committed.
class SqliteJournal : public Journal {
 public:
  SqliteJournal(ExecutionStore::Impl* store, std::string exec, std::string owner)
      : store_(store), exec_(std::move(exec)), owner_(std::move(owner)) {}

  Status Load() {
    std::lock_guard<std::mutex> lock(store_->mu);
    Stmt q(store_->db, "SELECT key, value FROM journal WHERE exec = ?");
    q.Bind(1, exec_);
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      auto j = ParseJson(q.Text(1), "journal");
      if (!j.ok())
        return DataLoss("workflow store " + store_->path + ": damaged journal entry '" + q.Text(0) +
                        "' of execution " + exec_ + ": " + j.status().message());
      map_[q.Text(0)] = std::move(*j);
    }
    if (rc != SQLITE_DONE) return store_->Error("journal read");
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
      records_.emplace_back(key, value.dump(-1, ' ', false, Json::error_handler_t::replace));
      flush = store_->durability == Durability::kEveryTransition || records_.size() >= 4096;
    }
    if (flush) (void)Sync();  // an error stays in broken_ and fails the next Sync()
  }

  void AppendEvent(const HistoryEvent& e) override {
    PendingEvent p{e.id, e.previous_event_id, e.type, e.timestamp_ms,
                   e.details.dump(-1, ' ', false, Json::error_handler_t::replace)};
    std::lock_guard<std::mutex> lock(mu_);
    events_.push_back(std::move(p));
  }

  Status Sync() override {
    std::vector<std::pair<std::string, std::string>> records;
    std::vector<PendingEvent> events;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!broken_.ok()) return broken_;
      records.swap(records_);
      events.swap(events_);
    }
    if (records.empty() && events.empty()) return Status::Ok();
    Status s = Commit(records, events);
    if (!s.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (broken_.ok()) broken_ = s;
    }
    return s;
  }

  Status RegisterToken(const std::string& token, const std::string& key) override {
    std::lock_guard<std::mutex> lock(store_->mu);
    Stmt q(
        store_->db,
        "INSERT OR IGNORE INTO tokens(token,exec,key,status,outcome) VALUES(?,?,?,'WAITING','')");
    q.Bind(1, token).Bind(2, exec_).Bind(3, key);
    if (q.Step() != SQLITE_DONE) return store_->Error("token write");
    return Status::Ok();
  }

  std::optional<Json> PollToken(const std::string& token) override {
    std::lock_guard<std::mutex> lock(store_->mu);
    Stmt q(store_->db, "SELECT status, outcome, heartbeat_ms FROM tokens WHERE token = ?");
    q.Bind(1, token);
    if (q.Step() != SQLITE_ROW) return std::nullopt;
    Json out = ParseOr(q.Text(1), Json::object());
    if (!out.is_object()) out = Json::object();
    out["status"] = q.Text(0);
    out["heartbeat_ms"] = q.Int(2);
    return out;
  }

 private:
  struct PendingEvent {
    int64_t id, previous;
    std::string type;
    int64_t ts;
    std::string details;
  };

  // One transaction: checks the lease is still ours, then writes records and events.
  Status Commit(const std::vector<std::pair<std::string, std::string>>& records,
                const std::vector<PendingEvent>& events) {
    std::lock_guard<std::mutex> lock(store_->mu);
    VQI_RETURN_IF_ERROR(store_->Exec("BEGIN IMMEDIATE"));
    auto fail = [&](Status s) {
      (void)store_->Exec("ROLLBACK");
      return s;
    };
    auto holder = LeaseOwner(*store_, exec_);
    if (!holder.ok()) return fail(holder.status());
    if (*holder != owner_)
      return fail(FailedPrecondition("execution " + exec_ + " was taken over by '" + *holder +
                                     "': this process lost its lease"));
    Stmt put(store_->db, "INSERT OR REPLACE INTO journal(exec,key,value) VALUES(?,?,?)");
    for (auto& [k, v] : records) {
      put.Bind(1, exec_).Bind(2, k).Bind(3, v);
      if (put.Step() != SQLITE_DONE) return fail(store_->Error("journal write"));
      put.Reset();
    }
    Stmt ev(store_->db,
            "INSERT OR REPLACE INTO events(exec,id,previous,type,ts,details) VALUES(?,?,?,?,?,?)");
    for (const PendingEvent& e : events) {
      ev.Bind(1, exec_).Bind(2, e.id).Bind(3, e.previous).Bind(4, e.type);
      ev.Bind(5, e.ts).Bind(6, e.details);
      if (ev.Step() != SQLITE_DONE) return fail(store_->Error("event write"));
      ev.Reset();
    }
    Status c = store_->Exec("COMMIT");
    if (!c.ok()) return fail(c);
    return Status::Ok();
  }

  ExecutionStore::Impl* store_;
  std::string exec_, owner_;
  std::mutex mu_;
  Status broken_;
  std::unordered_map<std::string, Json> map_;
  std::vector<std::pair<std::string, std::string>> records_;
  std::vector<PendingEvent> events_;
};

// Brings an older file to kSchemaVersion (PRAGMA user_version).
Status Migrate(ExecutionStore::Impl& s) {
  // Statements are scoped: one left open would hold a read snapshot and make BEGIN IMMEDIATE
  // fail with SQLITE_BUSY at once (no busy wait) when another process wrote meanwhile.
  int64_t version = 0;
  {
    Stmt v(s.db, "PRAGMA user_version");
    if (v.Step() != SQLITE_ROW) return s.Error("schema version");
    version = v.Int(0);
  }
  if (version > kSchemaVersion)
    return FailedPrecondition("workflow store " + s.path + " has schema version " +
                              std::to_string(version) + ", newer than this vqi (" +
                              std::to_string(kSchemaVersion) + ")");
  if (version >= kSchemaVersion) return Status::Ok();
  VQI_RETURN_IF_ERROR(s.Exec("BEGIN IMMEDIATE"));
  bool has_owner = false;
  {
    Stmt cols(s.db, "SELECT COUNT(*) FROM pragma_table_info('executions') WHERE name = 'owner'");
    has_owner = cols.Step() == SQLITE_ROW && cols.Int(0) > 0;
  }
  Status st = has_owner ? Status::Ok()
                        : s.Exec(
                              "ALTER TABLE executions ADD COLUMN owner TEXT DEFAULT '';"
                              "ALTER TABLE executions ADD COLUMN lease_until INTEGER DEFAULT 0;"
                              "ALTER TABLE executions ADD COLUMN takeovers INTEGER DEFAULT 0;");
  if (st.ok()) st = s.Exec("PRAGMA user_version = " + std::to_string(kSchemaVersion));
  if (!st.ok()) {
    (void)s.Exec("ROLLBACK");
    return st;
  }
  return s.Exec("COMMIT");
}

}  // namespace

const std::string& ProcessOwner() {
  static const std::string owner = [] {
    std::random_device rd;
    return HostName() + ":" + std::to_string(::getpid()) + ":" + std::to_string(rd() % 1000000);
  }();
  return owner;
}

ExecutionStore::ExecutionStore() : impl_(std::make_unique<Impl>()) {}

Result<std::unique_ptr<ExecutionStore>> ExecutionStore::Open(const std::string& path,
                                                             Durability durability) {
  std::unique_ptr<ExecutionStore> s(new ExecutionStore());
  Impl& d = *s->impl_;
  d.durability = durability;
  d.path = path;
  if (sqlite3_open(path.c_str(), &d.db) != SQLITE_OK) return d.Error("cannot open");
  sqlite3_busy_timeout(d.db, 10000);
  // Switching a new file to WAL needs an exclusive lock, for which SQLite does not wait on the
  // busy handler: several processes creating one store at once retry here (up to 10 s).
  for (int i = 0;; ++i) {
    Status wal = d.Exec("PRAGMA journal_mode=WAL");
    if (wal.ok()) break;
    if ((sqlite3_errcode(d.db) & 0xff) != SQLITE_BUSY || i >= 500) return wal;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  VQI_RETURN_IF_ERROR(d.Exec(durability == Durability::kProcess ? "PRAGMA synchronous=NORMAL"
                                                                : "PRAGMA synchronous=FULL"));
  // A damaged page must never be read as "no rows": check the file before using it.
  {
    Stmt q(d.db, "PRAGMA quick_check(5)");
    std::string problems;
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      std::string line = q.Text(0);
      if (line != "ok") problems += (problems.empty() ? "" : "; ") + line;
    }
    if (rc != SQLITE_DONE) {
      Status e = d.Error("integrity check");
      if (e.code() == StatusCode::kDataLoss) return e;
      return DataLoss(e.message() + " (PRAGMA quick_check failed: the file is damaged)");
    }
    if (!problems.empty())
      return DataLoss("workflow store " + path + " is damaged (PRAGMA quick_check: " + problems +
                      "); restore it from a backup");
  }
  VQI_RETURN_IF_ERROR(d.Exec(kSchema));
  VQI_RETURN_IF_ERROR(Migrate(d));
  return s;
}

ExecutionStore::~ExecutionStore() {
  if (impl_ != nullptr) sqlite3_close(impl_->db);
}

Result<ExecutionRecord> ExecutionStore::Create(const std::string& name,
                                               const std::string& state_machine,
                                               const std::string& definition, const Json& input,
                                               int64_t start_ms, const std::string& owner,
                                               int64_t lease_ms) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  ExecutionRecord r;
  r.name = name;
  r.id = "arn:aws:states:local:111111111111:execution:" + state_machine + ":" + name;
  r.state_machine = state_machine;
  r.definition = definition;
  r.input = input;
  r.status = "RUNNING";
  r.start_ms = start_ms;
  r.owner = owner;
  r.lease_until_ms = start_ms + lease_ms;
  Stmt q(d.db,
         "INSERT INTO executions(id,name,state_machine,definition,input,status,start_ms,stop_ms,"
         "owner,lease_until) VALUES(?,?,?,?,?,'RUNNING',?,0,?,?)");
  q.Bind(1, r.id).Bind(2, name).Bind(3, state_machine).Bind(4, definition).Bind(5, input.dump());
  q.Bind(6, start_ms).Bind(7, owner).Bind(8, r.lease_until_ms);
  int rc = q.Step();
  if (rc == SQLITE_CONSTRAINT) return AlreadyExists("execution '" + name + "' already exists");
  if (rc != SQLITE_DONE) return d.Error("create execution");
  return r;
}

Status ExecutionStore::Finish(const std::string& id, const ExecutionResult& result, int64_t stop_ms,
                              const std::string& owner) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  Stmt q(d.db,
         "UPDATE executions SET status=?, output=?, error=?, cause=?, stop_ms=?, owner='', "
         "lease_until=0 WHERE id=? AND owner=? AND status='RUNNING'");
  q.Bind(1, result.status)
      .Bind(2, result.output.dump(-1, ' ', false, Json::error_handler_t::replace));
  if (result.error)
    q.Bind(3, *result.error);
  else
    q.BindNull(3);
  if (result.cause)
    q.Bind(4, *result.cause);
  else
    q.BindNull(4);
  q.Bind(5, stop_ms).Bind(6, id).Bind(7, owner);
  if (q.Step() != SQLITE_DONE) return d.Error("finish execution");
  if (sqlite3_changes(d.db) == 0)
    return FailedPrecondition("execution " + id + " is no longer leased to this process (" + owner +
                              "); its result was not recorded");
  return Status::Ok();
}

Result<ExecutionRecord> ExecutionStore::AcquireLease(const std::string& id,
                                                     const std::string& owner, int64_t now_ms,
                                                     int64_t lease_ms) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  VQI_RETURN_IF_ERROR(d.Exec("BEGIN IMMEDIATE"));
  auto fail = [&](Status s) {
    (void)d.Exec("ROLLBACK");
    return s;
  };
  ExecutionRecord rec;
  {
    Stmt q(d.db, (std::string(kSelect) + "WHERE id = ? OR name = ?").c_str());
    q.Bind(1, id).Bind(2, id);
    int rc = q.Step();
    if (rc == SQLITE_DONE) return fail(NotFound("no execution '" + id + "'"));
    if (rc != SQLITE_ROW) return fail(d.Error("lease"));
    rec = ReadRecord(q);
  }
  if (rec.status != "RUNNING")
    return fail(FailedPrecondition("execution " + rec.name + " is " + rec.status));
  bool free = rec.owner.empty() || rec.owner == owner || rec.lease_until_ms < now_ms ||
              OwnerIsDead(rec.owner);
  if (!free)
    return fail(FailedPrecondition("execution " + rec.name + " is being run by '" + rec.owner +
                                   "' (lease valid for another " +
                                   std::to_string((rec.lease_until_ms - now_ms) / 1000) + " s)"));
  bool takeover = !rec.owner.empty() && rec.owner != owner;
  Stmt u(d.db, "UPDATE executions SET owner=?, lease_until=?, takeovers=takeovers+? WHERE id=?");
  u.Bind(1, owner).Bind(2, now_ms + lease_ms).Bind(3, int64_t{takeover ? 1 : 0}).Bind(4, rec.id);
  if (u.Step() != SQLITE_DONE) return fail(d.Error("lease"));
  VQI_RETURN_IF_ERROR(d.Exec("COMMIT"));
  rec.owner = owner;
  rec.lease_until_ms = now_ms + lease_ms;
  rec.takeovers += takeover ? 1 : 0;
  return rec;
}

Status ExecutionStore::RenewLease(const std::string& id, const std::string& owner, int64_t now_ms,
                                  int64_t lease_ms) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  Stmt q(d.db, "UPDATE executions SET lease_until=? WHERE id=? AND owner=? AND status='RUNNING'");
  q.Bind(1, now_ms + lease_ms).Bind(2, id).Bind(3, owner);
  if (q.Step() != SQLITE_DONE) return d.Error("lease renewal");
  if (sqlite3_changes(d.db) == 0)
    return FailedPrecondition("execution " + id + " is no longer leased to " + owner);
  return Status::Ok();
}

Result<ExecutionRecord> ExecutionStore::Get(const std::string& id_or_name) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  Stmt q(d.db, (std::string(kSelect) + "WHERE id = ? OR name = ?").c_str());
  q.Bind(1, id_or_name).Bind(2, id_or_name);
  int rc = q.Step();
  if (rc == SQLITE_ROW) return ReadRecord(q);
  if (rc == SQLITE_DONE) return NotFound("no execution '" + id_or_name + "'");
  return d.Error("read execution");
}

Result<std::vector<ExecutionRecord>> ExecutionStore::List(const std::string& status_filter) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  Stmt q(d.db,
         (std::string(kSelect) + "WHERE (? = '' OR status = ?) ORDER BY start_ms, name").c_str());
  q.Bind(1, status_filter).Bind(2, status_filter);
  std::vector<ExecutionRecord> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) out.push_back(ReadRecord(q));
  if (rc != SQLITE_DONE) return d.Error("list executions");
  return out;
}

Result<std::vector<HistoryEvent>> ExecutionStore::History(const std::string& id) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  Stmt q(d.db, "SELECT id, previous, type, ts, details FROM events WHERE exec = ? ORDER BY id");
  q.Bind(1, id);
  std::vector<HistoryEvent> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    HistoryEvent e;
    e.id = q.Int(0);
    e.previous_event_id = q.Int(1);
    e.type = q.Text(2);
    e.timestamp_ms = q.Int(3);
    e.details = ParseOr(q.Text(4), Json::object());
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return d.Error("read history");
  return out;
}

Result<int64_t> ExecutionStore::LastEventId(const std::string& id) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  Stmt q(d.db, "SELECT COALESCE(MAX(id), 0) FROM events WHERE exec = ?");
  q.Bind(1, id);
  if (q.Step() != SQLITE_ROW) return d.Error("last event");
  return q.Int(0);
}

Status ExecutionStore::RequestStop(const std::string& id) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  Stmt q(d.db, "UPDATE executions SET stop_requested = 1 WHERE id = ? OR name = ?");
  q.Bind(1, id).Bind(2, id);
  if (q.Step() != SQLITE_DONE) return d.Error("stop");
  if (sqlite3_changes(d.db) == 0) return NotFound("no execution '" + id + "'");
  return Status::Ok();
}

Result<bool> ExecutionStore::StopRequested(const std::string& id) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  Stmt q(d.db, "SELECT stop_requested FROM executions WHERE id = ?");
  q.Bind(1, id);
  int rc = q.Step();
  if (rc == SQLITE_ROW) return q.Int(0) != 0;
  if (rc == SQLITE_DONE) return NotFound("no execution '" + id + "'");
  return d.Error("stop flag");
}

Status ExecutionStore::CompleteToken(const std::string& token, const Json& outcome) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  Stmt q(d.db, "UPDATE tokens SET status = ?, outcome = ? WHERE token = ? AND status = 'WAITING'");
  q.Bind(1, outcome.value("status", "SUCCEEDED")).Bind(2, outcome.dump()).Bind(3, token);
  if (q.Step() != SQLITE_DONE) return d.Error("complete token");
  if (sqlite3_changes(d.db) == 0)
    return NotFound("task token '" + token + "' is unknown or already completed");
  return Status::Ok();
}

Status ExecutionStore::HeartbeatToken(const std::string& token, int64_t now_ms) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  Stmt q(d.db, "UPDATE tokens SET heartbeat_ms = ? WHERE token = ? AND status = 'WAITING'");
  q.Bind(1, now_ms).Bind(2, token);
  if (q.Step() != SQLITE_DONE) return d.Error("heartbeat");
  if (sqlite3_changes(d.db) == 0)
    return NotFound("task token '" + token + "' is unknown or already completed");
  return Status::Ok();
}

Result<std::unique_ptr<Journal>> ExecutionStore::OpenJournal(const std::string& id,
                                                             const std::string& owner) {
  auto j = std::make_unique<SqliteJournal>(impl_.get(), id, owner);
  VQI_RETURN_IF_ERROR(j->Load());
  return std::unique_ptr<Journal>(std::move(j));
}

}  // namespace vqi::workflow
