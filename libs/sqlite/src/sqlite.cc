#include "vqi/sqlite/sqlite.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

namespace vqi::sqlite {
namespace {

// "SQLITE_CORRUPT (11)"-style label for the primary code, plus the extended code.
std::string CodeLabel(int extended_rc) {
  const int primary = extended_rc & 0xff;
  const char* name = "SQLITE_ERROR";
  switch (primary) {
    case SQLITE_BUSY:
      name = "SQLITE_BUSY";
      break;
    case SQLITE_LOCKED:
      name = "SQLITE_LOCKED";
      break;
    case SQLITE_CORRUPT:
      name = "SQLITE_CORRUPT";
      break;
    case SQLITE_NOTADB:
      name = "SQLITE_NOTADB";
      break;
    case SQLITE_CONSTRAINT:
      name = "SQLITE_CONSTRAINT";
      break;
    case SQLITE_FULL:
      name = "SQLITE_FULL";
      break;
    case SQLITE_TOOBIG:
      name = "SQLITE_TOOBIG";
      break;
    case SQLITE_READONLY:
      name = "SQLITE_READONLY";
      break;
    case SQLITE_PERM:
      name = "SQLITE_PERM";
      break;
    case SQLITE_AUTH:
      name = "SQLITE_AUTH";
      break;
    case SQLITE_CANTOPEN:
      name = "SQLITE_CANTOPEN";
      break;
    case SQLITE_IOERR:
      name = "SQLITE_IOERR";
      break;
    case SQLITE_NOMEM:
      name = "SQLITE_NOMEM";
      break;
    case SQLITE_MISUSE:
      name = "SQLITE_MISUSE";
      break;
    case SQLITE_RANGE:
      name = "SQLITE_RANGE";
      break;
    case SQLITE_MISMATCH:
      name = "SQLITE_MISMATCH";
      break;
    case SQLITE_INTERRUPT:
      name = "SQLITE_INTERRUPT";
      break;
    case SQLITE_PROTOCOL:
      name = "SQLITE_PROTOCOL";
      break;
    default:
      break;
  }
  return std::string(name) + ", extended code " + std::to_string(extended_rc);
}

Status ErrorOn(sqlite3* db, int rc, std::string_view what, std::string_view path);

}  // namespace

Status StatusFromSqlite(int rc, std::string message) {
  message += " [" + CodeLabel(rc) + "]";
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_PROTOCOL:
      return Unavailable(std::move(message));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return DataLoss(std::move(message));
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
        return AlreadyExists(std::move(message));
      return FailedPrecondition(std::move(message));
    case SQLITE_FULL:
    case SQLITE_TOOBIG:
    case SQLITE_NOMEM:
      return ResourceExhausted(std::move(message));
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return PermissionDenied(std::move(message));
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
      if (rc == SQLITE_IOERR_CORRUPTFS) return DataLoss(std::move(message));
      return Unavailable(std::move(message));
    default:
      return Internal(std::move(message));
  }
}

// ---- Stmt

Stmt::Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_), bind_rc_(o.bind_rc_) { o.s_ = nullptr; }
Stmt& Stmt::operator=(Stmt&& o) noexcept {
  if (this != &o) {
    sqlite3_finalize(s_);
    db_ = o.db_;
    s_ = std::exchange(o.s_, nullptr);
    bind_rc_ = o.bind_rc_;
  }
  return *this;
}
Stmt::~Stmt() { sqlite3_finalize(s_); }

#define VQI_SQLITE_BIND(call)                                      \
  do {                                                             \
    const int rc_ = (call);                                        \
    if (rc_ != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc_; \
  } while (0)

Stmt& Stmt::Bind(int i, std::string_view v) {
  // A non-null pointer even for "", so an empty string binds as '' and not NULL.
  VQI_SQLITE_BIND(sqlite3_bind_text64(s_, i, v.empty() ? "" : v.data(), v.size(), SQLITE_TRANSIENT,
                                      SQLITE_UTF8));
  return *this;
}
Stmt& Stmt::Bind(int i, int64_t v) {
  VQI_SQLITE_BIND(sqlite3_bind_int64(s_, i, v));
  return *this;
}
Stmt& Stmt::Bind(int i, double v) {
  VQI_SQLITE_BIND(sqlite3_bind_double(s_, i, v));
  return *this;
}
Stmt& Stmt::Bind(int i, std::nullopt_t) {
  VQI_SQLITE_BIND(sqlite3_bind_null(s_, i));
  return *this;
}
Stmt& Stmt::BindBlob(int i, std::string_view v) {
  VQI_SQLITE_BIND(
      sqlite3_bind_blob64(s_, i, v.empty() ? "" : v.data(), v.size(), SQLITE_TRANSIENT));
  return *this;
}
#undef VQI_SQLITE_BIND

Status Stmt::Error(int rc) const {
  const char* sql = sqlite3_sql(s_);
  const char* file = sqlite3_db_filename(db_, "main");
  return ErrorOn(db_, rc, sql ? sql : "statement", file ? file : "");
}

Result<bool> Stmt::Step() {
  if (bind_rc_ != SQLITE_OK) {
    const int rc = std::exchange(bind_rc_, SQLITE_OK);
    const char* sql = sqlite3_sql(s_);
    const char* file = sqlite3_db_filename(db_, "main");
    return StatusFromSqlite(rc, "sqlite: bind for " + std::string(sql ? sql : "statement") + " (" +
                                    (file ? file : "") + "): " + sqlite3_errstr(rc));
  }
  const int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Error(rc);
}

Status Stmt::Run() {
  for (;;) {
    VQI_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

void Stmt::Reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
  bind_rc_ = SQLITE_OK;
}

bool Stmt::IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }

std::string Stmt::Text(int col) const {
  const unsigned char* t = sqlite3_column_text(s_, col);
  return t ? std::string(reinterpret_cast<const char*>(t),
                         static_cast<size_t>(sqlite3_column_bytes(s_, col)))
           : std::string();
}

std::string Stmt::Blob(int col) const {
  const void* b = sqlite3_column_blob(s_, col);
  return b ? std::string(static_cast<const char*>(b),
                         static_cast<size_t>(sqlite3_column_bytes(s_, col)))
           : std::string();
}

int64_t Stmt::Int(int col) const { return sqlite3_column_int64(s_, col); }
double Stmt::Real(int col) const { return sqlite3_column_double(s_, col); }
std::optional<std::string> Stmt::OptText(int col) const {
  if (IsNull(col)) return std::nullopt;
  return Text(col);
}
int Stmt::ColumnCount() const { return sqlite3_column_count(s_); }

// ---- Db

Db::Db(Db&& o) noexcept : db_(std::exchange(o.db_, nullptr)), path_(std::move(o.path_)) {}
Db& Db::operator=(Db&& o) noexcept {
  if (this != &o) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(o.db_, nullptr);
    path_ = std::move(o.path_);
  }
  return *this;
}
Db::~Db() { sqlite3_close_v2(db_); }

namespace {
Status ErrorOn(sqlite3* db, int rc, std::string_view what, std::string_view path) {
  // The connection's message when it describes this failure, else SQLite's generic text.
  const bool own = db != nullptr && (sqlite3_extended_errcode(db) & 0xff) == (rc & 0xff);
  if (own) rc = sqlite3_extended_errcode(db);
  std::string msg = "sqlite: " + std::string(what.substr(0, 200)) + " (" + std::string(path) +
                    "): " + (own ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  return StatusFromSqlite(rc, std::move(msg));
}
}  // namespace

Status Db::Error(int rc, std::string_view what) const { return ErrorOn(db_, rc, what, path_); }

Result<Db> Db::Open(const std::string& path, const OpenOptions& o) {
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  flags |= o.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
  if (o.create && !o.read_only) flags |= SQLITE_OPEN_CREATE;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw, path);
  if (rc != SQLITE_OK) {
    if (!o.create && (rc & 0xff) == SQLITE_CANTOPEN)
      return NotFound("sqlite: no database at " + path);
    return db.Error(rc, "open");
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, o.busy_timeout_ms);
  // The first read of the file: a file that is not a database fails here (SQLITE_NOTADB).
  if (o.quick_check) {
    VQI_RETURN_IF_ERROR(db.QuickCheck());
  } else {
    VQI_RETURN_IF_ERROR(db.Exec("SELECT count(*) FROM sqlite_schema"));
  }
  if (o.wal && !o.read_only) VQI_RETURN_IF_ERROR(db.SwitchToWal(o.busy_timeout_ms));
  VQI_RETURN_IF_ERROR(db.Exec(o.synchronous == Synchronous::kFull ? "PRAGMA synchronous=FULL"
                                                                  : "PRAGMA synchronous=NORMAL"));
  if (o.foreign_keys) VQI_RETURN_IF_ERROR(db.Exec("PRAGMA foreign_keys=ON"));
  return db;
}

Status Db::SwitchToWal(int timeout_ms) {
  // Changing a rollback-journal file to WAL takes an exclusive lock, and SQLite returns
  // SQLITE_BUSY for it without calling the busy handler; several processes creating one file at
  // once would fail with "database is locked". Retry under the same timeout as other locks
  // (no statement is open here, so nothing holds a shared lock of ours while we wait).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (int wait_ms = 1;; wait_ms = std::min(wait_ms * 2, 20)) {
    Status st = Exec("PRAGMA journal_mode=WAL");
    if (st.ok() || st.code() != StatusCode::kUnavailable ||
        std::chrono::steady_clock::now() >= deadline)
      return st;
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
  }
}

Status Db::Exec(std::string_view sql) {
  const std::string text(sql);
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  sqlite3_free(err);  // the same text as sqlite3_errmsg
  return Error(rc, text.substr(0, 80));
}

Result<Stmt> Db::Prepare(std::string_view sql) const {
  sqlite3_stmt* s = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &s, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(s);
    return Error(rc, "prepare " + std::string(sql));
  }
  return Stmt(db_, s);
}

Status Db::QuickCheck() const {
  auto damaged = [&](const Status& st) {
    if (st.code() != StatusCode::kDataLoss) return st;
    return DataLoss("database " + path_ + " is damaged or not a SQLite database: " + st.message());
  };
  auto prepared = Prepare("PRAGMA quick_check(10)");
  if (!prepared.ok()) return damaged(prepared.status());
  Stmt& st = *prepared;
  std::string findings;
  for (;;) {
    auto row = st.Step();
    if (!row.ok()) return damaged(row.status());
    if (!*row) break;
    std::string line = st.Text(0);
    if (line == "ok") continue;
    for (char& c : line)
      if (c == '\n') c = ' ';
    if (!findings.empty()) findings += "; ";
    findings += line;
  }
  if (findings.empty()) return Status::Ok();
  return DataLoss("database " + path_ + " is damaged (PRAGMA quick_check): " + findings);
}

Result<int> Db::UserVersion() const {
  VQI_ASSIGN_OR_RETURN(Stmt st, Prepare("PRAGMA user_version"));
  VQI_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return Internal("sqlite: PRAGMA user_version returned no row");
  return static_cast<int>(st.Int(0));
}

Status Db::Migrate(const std::vector<Migration>& migrations) {
  for (size_t i = 0; i < migrations.size(); ++i)
    VQI_CHECK_MSG(migrations[i].version == static_cast<int>(i) + 1,
                  "migrations must be numbered 1, 2, ... in order");
  const int latest = static_cast<int>(migrations.size());
  for (const Migration& m : migrations) {
    VQI_ASSIGN_OR_RETURN(int current, UserVersion());
    if (current > latest)
      return FailedPrecondition("database " + path_ + " has schema version " +
                                std::to_string(current) + ", newer than this program's " +
                                std::to_string(latest) + "; use a newer vqi");
    if (current >= m.version) continue;
    // No statement of ours is open across BEGIN IMMEDIATE (UserVersion finalizes its own), so
    // this connection holds no read snapshot that a concurrent migrator's commit would stale.
    VQI_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(*this));
    // Another process may have migrated between the read above and our write lock.
    VQI_ASSIGN_OR_RETURN(current, UserVersion());
    if (current >= m.version) continue;  // tx rolls back (nothing written)
    Status st = m.apply ? m.apply(*this) : Exec(m.sql);
    if (!st.ok()) return st.WithContext("migration to schema version " + std::to_string(m.version));
    VQI_RETURN_IF_ERROR(Exec("PRAGMA user_version=" + std::to_string(m.version)));
    VQI_RETURN_IF_ERROR(tx.Commit());
  }
  VQI_ASSIGN_OR_RETURN(int current, UserVersion());
  if (current > latest)
    return FailedPrecondition("database " + path_ + " has schema version " +
                              std::to_string(current) + ", newer than this program's " +
                              std::to_string(latest) + "; use a newer vqi");
  return Status::Ok();
}

bool Db::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

Status Db::InTransaction(const std::function<Status()>& body) {
  if (in_transaction()) return body();
  VQI_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(*this));
  VQI_RETURN_IF_ERROR(body());
  return tx.Commit();
}

int64_t Db::Changes() const { return sqlite3_changes64(db_); }
int64_t Db::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }

// ---- Transaction

Result<Transaction> Transaction::Begin(Db& db) {
  if (db.in_transaction())
    return FailedPrecondition("sqlite: " + db.path() + ": a transaction is already open");
  VQI_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  return Transaction(&db);
}

Result<Transaction> Transaction::BeginRead(Db& db) {
  if (db.in_transaction())
    return FailedPrecondition("sqlite: " + db.path() + ": a transaction is already open");
  VQI_RETURN_IF_ERROR(db.Exec("BEGIN DEFERRED"));
  return Transaction(&db);
}

Status Transaction::Commit() {
  if (db_ == nullptr) return FailedPrecondition("sqlite: transaction already ended");
  Db* db = std::exchange(db_, nullptr);
  Status st = db->Exec("COMMIT");
  if (!st.ok() && db->in_transaction()) (void)db->Exec("ROLLBACK");
  return st;
}

Status Transaction::Rollback() {
  if (db_ == nullptr) return Status::Ok();
  Db* db = std::exchange(db_, nullptr);
  if (!db->in_transaction()) return Status::Ok();  // SQLite already rolled back (e.g. FULL)
  return db->Exec("ROLLBACK");
}

Transaction::~Transaction() { (void)Rollback(); }

}  // namespace vqi::sqlite
