// SQLite execution store (see store.h), on the shared SQLite adapter (libs/sqlite).
#include "vqi/workflow/store.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <unordered_map>

#include "vqi/sqlite/sqlite.h"

namespace vqi::workflow {

using sqlite::Db;
using sqlite::Stmt;

// The schema, one migration per version (PRAGMA user_version). Files written before
// versioning hold the version-1 tables at user_version 0; IF NOT EXISTS keeps them.
const std::vector<sqlite::Migration>& Migrations() {
  static const std::vector<sqlite::Migration> m = {
      {1, R"(
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
)",
       nullptr},
      // The lease: one process runs an execution at a time.
      {2, R"(
ALTER TABLE executions ADD COLUMN owner TEXT DEFAULT '';
ALTER TABLE executions ADD COLUMN lease_until INTEGER DEFAULT 0;
ALTER TABLE executions ADD COLUMN takeovers INTEGER DEFAULT 0;
)",
       nullptr},
  };
  return m;
}

struct ExecutionStore::Impl {
  explicit Impl(Db d) : db(std::move(d)) {}
  Db db;
  std::mutex mu;  // the connection is used by one thread at a time
  Durability durability = Durability::kFull;
  // In-process change notification (ChangeCount/AwaitChange/NotifyChange).
  mutable std::mutex change_mu;
  mutable std::condition_variable change_cv;
  uint64_t changes = 0;

  uint64_t ChangeCount() {
    std::lock_guard<std::mutex> lock(change_mu);
    return changes;
  }
  void AwaitChange(uint64_t seen, std::chrono::milliseconds max) {
    std::unique_lock<std::mutex> lock(change_mu);
    change_cv.wait_for(lock, max, [&] { return changes != seen; });
  }
  void NotifyChange() {
    {
      std::lock_guard<std::mutex> lock(change_mu);
      ++changes;
    }
    change_cv.notify_all();
  }
};

namespace {

// Runs `sql` with `bind` and returns its rows through `row` (Step errors propagate).
Status Query(Db& db, const char* sql, const std::function<void(Stmt&)>& bind,
             const std::function<void(Stmt&)>& row) {
  VQI_ASSIGN_OR_RETURN(Stmt q, db.Prepare(sql));
  bind(q);
  while (true) {
    VQI_ASSIGN_OR_RETURN(bool more, q.Step());
    if (!more) return Status::Ok();
    row(q);
  }
}

Json ParseOr(const std::string& s, Json fallback = Json()) {
  if (s.empty()) return fallback;
  auto j = ParseJson(s);
  return j.ok() ? *j : fallback;
}

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

ExecutionRecord ReadRecord(const Stmt& q) {
  ExecutionRecord r;
  r.id = q.Text(0);
  r.name = q.Text(1);
  r.state_machine = q.Text(2);
  r.definition = q.Text(3);
  r.input = ParseOr(q.Text(4));
  // An unknown name (written by a newer vqi) reads as FAILED rather than RUNNING: it is
  // never resumed by mistake.
  r.status = ParseExecutionStatus(q.Text(5)).value_or(ExecutionStatus::kFailed);
  r.output = ParseOr(q.Text(6));
  r.error = q.OptText(7);
  r.cause = q.OptText(8);
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

// The lease holder of `id` (inside the caller's transaction).
Result<std::string> LeaseOwner(Db& db, const std::string& id) {
  std::optional<std::string> owner;
  VQI_RETURN_IF_ERROR(Query(
      db, "SELECT owner FROM executions WHERE id = ?", [&](Stmt& q) { q.Bind(1, id); },
      [&](Stmt& q) { owner = q.Text(0); }));
  if (!owner) return NotFound("no execution '" + id + "'");
  return *owner;
}

// The journal of one execution: an in-memory map of recorded visits plus a buffer of
// records/events not yet committed.
class SqliteJournal : public Journal {
 public:
  SqliteJournal(ExecutionStore::Impl* store, std::string exec, std::string owner)
      : store_(store), exec_(std::move(exec)), owner_(std::move(owner)) {}

  Status Load() {
    std::lock_guard<std::mutex> lock(store_->mu);
    Status bad;
    VQI_RETURN_IF_ERROR(Query(
        store_->db, "SELECT key, value FROM journal WHERE exec = ?",
        [&](Stmt& q) { q.Bind(1, exec_); },
        [&](Stmt& q) {
          auto j = ParseJson(q.Text(1), "journal");
          if (!j.ok()) {
            if (bad.ok())
              bad = DataLoss("workflow store " + store_->db.path() + ": damaged journal entry '" +
                             q.Text(0) + "' of execution " + exec_ + ": " + j.status().message());
            return;
          }
          map_[q.Text(0)] = std::move(*j);
        }));
    return bad;
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
      records_.emplace_back(key, Dump(value));
      flush = store_->durability == Durability::kEveryTransition || records_.size() >= 4096;
    }
    if (flush) (void)Sync();  // an error stays in broken_ and fails the next Sync()
  }

  void AppendEvent(const HistoryEvent& e) override {
    PendingEvent p{e.id, e.previous_event_id, e.type, e.timestamp_ms, Dump(e.details)};
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
    Status s;
    {
      std::lock_guard<std::mutex> lock(store_->mu);
      s = store_->db.InTransaction([&] { return Commit(records, events); });
    }
    if (!s.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (broken_.ok()) broken_ = s;
    }
    return s;
  }

  Status RegisterToken(const std::string& token, const std::string& key) override {
    std::lock_guard<std::mutex> lock(store_->mu);
    VQI_ASSIGN_OR_RETURN(
        Stmt q, store_->db.Prepare("INSERT OR IGNORE INTO tokens(token,exec,key,status,outcome) "
                                   "VALUES(?,?,?,'WAITING','')"));
    return q.Bind(1, token).Bind(2, exec_).Bind(3, key).Run();
  }

  uint64_t ChangeCount() override { return store_->ChangeCount(); }
  void AwaitChange(uint64_t seen, std::chrono::milliseconds max) override {
    store_->AwaitChange(seen, max);
  }

  std::optional<Json> PollToken(const std::string& token) override {
    std::lock_guard<std::mutex> lock(store_->mu);
    std::optional<Json> out;
    Status s = Query(
        store_->db, "SELECT status, outcome, heartbeat_ms FROM tokens WHERE token = ?",
        [&](Stmt& q) { q.Bind(1, token); },
        [&](Stmt& q) {
          Json o = ParseOr(q.Text(1), Json::object());
          if (!o.is_object()) o = Json::object();
          o["status"] = q.Text(0);
          o["heartbeat_ms"] = q.Int(2);
          out = std::move(o);
        });
    if (!s.ok()) return std::nullopt;
    return out;
  }

 private:
  struct PendingEvent {
    int64_t id, previous;
    std::string type;
    int64_t ts;
    std::string details;
  };

  // Inside a transaction: checks the lease is still ours, then writes records and events.
  Status Commit(const std::vector<std::pair<std::string, std::string>>& records,
                const std::vector<PendingEvent>& events) {
    Db& db = store_->db;
    VQI_ASSIGN_OR_RETURN(std::string holder, LeaseOwner(db, exec_));
    if (holder != owner_)
      return FailedPrecondition("execution " + exec_ + " was taken over by '" + holder +
                                "': this process lost its lease");
    VQI_ASSIGN_OR_RETURN(
        Stmt put, db.Prepare("INSERT OR REPLACE INTO journal(exec,key,value) VALUES(?,?,?)"));
    for (auto& [k, v] : records) {
      VQI_RETURN_IF_ERROR(
          put.Bind(1, exec_).Bind(2, k).Bind(3, v).Run().WithContext("journal write"));
      put.Reset();
    }
    VQI_ASSIGN_OR_RETURN(
        Stmt ev, db.Prepare("INSERT OR REPLACE INTO events(exec,id,previous,type,ts,details) "
                            "VALUES(?,?,?,?,?,?)"));
    for (const PendingEvent& e : events) {
      ev.Bind(1, exec_).Bind(2, e.id).Bind(3, e.previous).Bind(4, e.type);
      ev.Bind(5, e.ts).Bind(6, e.details);
      VQI_RETURN_IF_ERROR(ev.Run().WithContext("event write"));
      ev.Reset();
    }
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

}  // namespace

const std::string& ProcessOwner() {
  static const std::string owner = [] {
    std::random_device rd;
    return HostName() + ":" + std::to_string(::getpid()) + ":" + std::to_string(rd() % 1000000);
  }();
  return owner;
}

ExecutionStore::ExecutionStore() = default;

Result<std::unique_ptr<ExecutionStore>> ExecutionStore::Open(const std::string& path,
                                                             Durability durability) {
  sqlite::OpenOptions o;
  o.synchronous = durability == Durability::kProcess ? sqlite::Synchronous::kNormal
                                                     : sqlite::Synchronous::kFull;
  o.foreign_keys = false;
  VQI_ASSIGN_OR_RETURN(Db db, Db::Open(path, o));  // WAL; waits out concurrent creators
  VQI_RETURN_IF_ERROR(db.Migrate(Migrations()).WithContext("workflow store " + path));
  std::unique_ptr<ExecutionStore> s(new ExecutionStore());
  s->impl_ = std::make_unique<Impl>(std::move(db));
  s->impl_->durability = durability;
  return s;
}

ExecutionStore::~ExecutionStore() = default;

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
  r.status = ExecutionStatus::kRunning;
  r.start_ms = start_ms;
  r.owner = owner;
  r.lease_until_ms = start_ms + lease_ms;
  VQI_ASSIGN_OR_RETURN(
      Stmt q,
      d.db.Prepare("INSERT INTO executions(id,name,state_machine,definition,input,status,"
                   "start_ms,stop_ms,owner,lease_until) VALUES(?,?,?,?,?,'RUNNING',?,0,?,?)"));
  q.Bind(1, r.id).Bind(2, name).Bind(3, state_machine).Bind(4, definition).Bind(5, Dump(input));
  q.Bind(6, start_ms).Bind(7, owner).Bind(8, r.lease_until_ms);
  Status st = q.Run();
  if (st.code() == StatusCode::kAlreadyExists)
    return AlreadyExists("execution '" + name + "' already exists");
  VQI_RETURN_IF_ERROR(st.WithContext("create execution"));
  return r;
}

Status ExecutionStore::Finish(const std::string& id, const ExecutionResult& result, int64_t stop_ms,
                              const std::string& owner) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  VQI_ASSIGN_OR_RETURN(
      Stmt q, d.db.Prepare("UPDATE executions SET status=?, output=?, error=?, cause=?, stop_ms=?, "
                           "owner='', lease_until=0 WHERE id=? AND owner=? AND status='RUNNING'"));
  q.Bind(1, ExecutionStatusName(result.status)).Bind(2, Dump(result.output));
  if (result.error)
    q.Bind(3, *result.error);
  else
    q.BindNull(3);
  if (result.cause)
    q.Bind(4, *result.cause);
  else
    q.BindNull(4);
  q.Bind(5, stop_ms).Bind(6, id).Bind(7, owner);
  VQI_RETURN_IF_ERROR(q.Run().WithContext("finish execution"));
  if (d.db.Changes() == 0)
    return FailedPrecondition("execution " + id + " is no longer leased to this process (" + owner +
                              "); its result was not recorded");
  return Status::Ok();
}

Result<ExecutionRecord> ExecutionStore::AcquireLease(const std::string& id,
                                                     const std::string& owner, int64_t now_ms,
                                                     int64_t lease_ms) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  ExecutionRecord rec;
  Status st = d.db.InTransaction([&]() -> Status {
    bool found = false;
    VQI_RETURN_IF_ERROR(Query(
        d.db, (std::string(kSelect) + "WHERE id = ? OR name = ?").c_str(),
        [&](Stmt& q) { q.Bind(1, id).Bind(2, id); },
        [&](Stmt& q) {
          rec = ReadRecord(q);
          found = true;
        }));
    if (!found) return NotFound("no execution '" + id + "'");
    if (rec.status != ExecutionStatus::kRunning)
      return FailedPrecondition("execution " + rec.name + " is " + ExecutionStatusName(rec.status));
    bool free = rec.owner.empty() || rec.owner == owner || rec.lease_until_ms < now_ms ||
                OwnerIsDead(rec.owner);
    if (!free)
      return FailedPrecondition("execution " + rec.name + " is being run by '" + rec.owner +
                                "' (lease valid for another " +
                                std::to_string((rec.lease_until_ms - now_ms) / 1000) + " s)");
    bool takeover = !rec.owner.empty() && rec.owner != owner;
    VQI_ASSIGN_OR_RETURN(Stmt u, d.db.Prepare("UPDATE executions SET owner=?, lease_until=?, "
                                              "takeovers=takeovers+? WHERE id=?"));
    VQI_RETURN_IF_ERROR(u.Bind(1, owner)
                            .Bind(2, now_ms + lease_ms)
                            .Bind(3, int64_t{takeover ? 1 : 0})
                            .Bind(4, rec.id)
                            .Run());
    rec.owner = owner;
    rec.lease_until_ms = now_ms + lease_ms;
    rec.takeovers += takeover ? 1 : 0;
    return Status::Ok();
  });
  VQI_RETURN_IF_ERROR(st);
  return rec;
}

Status ExecutionStore::RenewLease(const std::string& id, const std::string& owner, int64_t now_ms,
                                  int64_t lease_ms) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  VQI_ASSIGN_OR_RETURN(Stmt q, d.db.Prepare("UPDATE executions SET lease_until=? WHERE id=? AND "
                                            "owner=? AND status='RUNNING'"));
  VQI_RETURN_IF_ERROR(q.Bind(1, now_ms + lease_ms).Bind(2, id).Bind(3, owner).Run());
  if (d.db.Changes() == 0)
    return FailedPrecondition("execution " + id + " is no longer leased to " + owner);
  return Status::Ok();
}

Result<ExecutionRecord> ExecutionStore::Get(const std::string& id_or_name) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  std::optional<ExecutionRecord> rec;
  VQI_RETURN_IF_ERROR(Query(
      d.db, (std::string(kSelect) + "WHERE id = ? OR name = ?").c_str(),
      [&](Stmt& q) { q.Bind(1, id_or_name).Bind(2, id_or_name); },
      [&](Stmt& q) { rec = ReadRecord(q); }));
  if (!rec) return NotFound("no execution '" + id_or_name + "'");
  return *rec;
}

Result<std::vector<ExecutionRecord>> ExecutionStore::List(std::optional<ExecutionStatus> status) {
  const std::string status_filter = status ? ExecutionStatusName(*status) : "";
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  std::vector<ExecutionRecord> out;
  VQI_RETURN_IF_ERROR(Query(
      d.db, (std::string(kSelect) + "WHERE (? = '' OR status = ?) ORDER BY start_ms, name").c_str(),
      [&](Stmt& q) { q.Bind(1, status_filter).Bind(2, status_filter); },
      [&](Stmt& q) { out.push_back(ReadRecord(q)); }));
  return out;
}

Result<std::vector<HistoryEvent>> ExecutionStore::History(const std::string& id) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  std::vector<HistoryEvent> out;
  VQI_RETURN_IF_ERROR(Query(
      d.db, "SELECT id, previous, type, ts, details FROM events WHERE exec = ? ORDER BY id",
      [&](Stmt& q) { q.Bind(1, id); },
      [&](Stmt& q) {
        HistoryEvent e;
        e.id = q.Int(0);
        e.previous_event_id = q.Int(1);
        e.type = q.Text(2);
        e.timestamp_ms = q.Int(3);
        e.details = ParseOr(q.Text(4), Json::object());
        out.push_back(std::move(e));
      }));
  return out;
}

Result<int64_t> ExecutionStore::LastEventId(const std::string& id) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  int64_t last = 0;
  VQI_RETURN_IF_ERROR(Query(
      d.db, "SELECT COALESCE(MAX(id), 0) FROM events WHERE exec = ?",
      [&](Stmt& q) { q.Bind(1, id); }, [&](Stmt& q) { last = q.Int(0); }));
  return last;
}

Status ExecutionStore::RequestStop(const std::string& id) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  VQI_ASSIGN_OR_RETURN(Stmt q, d.db.Prepare("UPDATE executions SET stop_requested = 1 WHERE "
                                            "id = ? OR name = ?"));
  VQI_RETURN_IF_ERROR(q.Bind(1, id).Bind(2, id).Run());
  if (d.db.Changes() == 0) return NotFound("no execution '" + id + "'");
  d.NotifyChange();
  return Status::Ok();
}

Result<bool> ExecutionStore::StopRequested(const std::string& id) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  std::optional<bool> stop;
  VQI_RETURN_IF_ERROR(Query(
      d.db, "SELECT stop_requested FROM executions WHERE id = ?", [&](Stmt& q) { q.Bind(1, id); },
      [&](Stmt& q) { stop = q.Int(0) != 0; }));
  if (!stop) return NotFound("no execution '" + id + "'");
  return *stop;
}

Status ExecutionStore::CompleteToken(const std::string& token, const Json& outcome) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  VQI_ASSIGN_OR_RETURN(Stmt q, d.db.Prepare("UPDATE tokens SET status = ?, outcome = ? WHERE "
                                            "token = ? AND status = 'WAITING'"));
  VQI_RETURN_IF_ERROR(
      q.Bind(1, outcome.value("status", "SUCCEEDED")).Bind(2, Dump(outcome)).Bind(3, token).Run());
  if (d.db.Changes() == 0)
    return NotFound("task token '" + token + "' is unknown or already completed");
  d.NotifyChange();
  return Status::Ok();
}

Status ExecutionStore::HeartbeatToken(const std::string& token, int64_t now_ms) {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.mu);
  VQI_ASSIGN_OR_RETURN(Stmt q, d.db.Prepare("UPDATE tokens SET heartbeat_ms = ? WHERE token = ? "
                                            "AND status = 'WAITING'"));
  VQI_RETURN_IF_ERROR(q.Bind(1, now_ms).Bind(2, token).Run());
  if (d.db.Changes() == 0)
    return NotFound("task token '" + token + "' is unknown or already completed");
  d.NotifyChange();
  return Status::Ok();
}

uint64_t ExecutionStore::ChangeCount() const { return impl_->ChangeCount(); }
void ExecutionStore::AwaitChange(uint64_t seen, std::chrono::milliseconds max) const {
  impl_->AwaitChange(seen, max);
}
void ExecutionStore::NotifyChange() const { impl_->NotifyChange(); }
const std::string& ExecutionStore::path() const { return impl_->db.path(); }

Result<std::unique_ptr<Journal>> ExecutionStore::OpenJournal(const std::string& id,
                                                             const std::string& owner) {
  auto j = std::make_unique<SqliteJournal>(impl_.get(), id, owner);
  VQI_RETURN_IF_ERROR(j->Load());
  return std::unique_ptr<Journal>(std::move(j));
}

}  // namespace vqi::workflow
