// One SQLite adapter for every store: open (WAL, busy timeout, foreign keys, integrity check),
// versioned migrations, prepared statements with typed bind/step/column, RAII transactions.
//
// Errors are Status values carrying SQLite's own message and extended result code:
//   corruption (SQLITE_CORRUPT, SQLITE_NOTADB, failed quick_check) -> DataLoss, naming the file
//   busy / locked (after the busy timeout)                          -> Unavailable (retry)
//   UNIQUE / PRIMARY KEY constraint                                 -> AlreadyExists
//   other constraints (FOREIGN KEY, CHECK, NOT NULL)                -> FailedPrecondition
//   disk full, string or blob too big                               -> ResourceExhausted
//   read-only database, permission                                  -> PermissionDenied
//   cannot open, I/O error                                          -> Unavailable
//   anything else (misuse, bad SQL)                                 -> Internal
//
// Thread-compatibility: a Db is one connection (opened without SQLite's own mutex); use it from
// one thread at a time (callers that share it lock around it). Stmt and Transaction borrow the
// Db and must not outlive it. Several processes may open (and create) the same file at once: Open
// waits up to busy_timeout_ms for the WAL switch and Migrate for the schema write lock.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace vqi::sqlite {

class Db;

enum class Synchronous { kNormal, kFull };

struct OpenOptions {
  bool create = true;      // create the file when missing (else NotFound)
  bool read_only = false;  // open read-only (no migrations possible)
  bool wal = true;         // journal_mode=WAL (switch retried up to busy_timeout_ms)
  Synchronous synchronous = Synchronous::kNormal;
  int busy_timeout_ms = 10000;  // writers wait this long for a lock, then Unavailable
  bool foreign_keys = true;
  bool quick_check = true;  // run PRAGMA quick_check on open; damage -> DataLoss
};

// A schema step. Versions start at 1 and increase by 1; migration N moves user_version
// from N-1 to N. Exactly one of `sql` (a script, may hold several statements) or `apply`.
struct Migration {
  int version = 0;
  std::string sql;
  std::function<Status(Db&)> apply;
};

class Stmt {
 public:
  Stmt(Stmt&& o) noexcept;
  Stmt& operator=(Stmt&& o) noexcept;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt();

  // Binds are 1-based and return *this for chaining. Text is bound as given (bytes, no
  // UTF-8 check); a bind error (index out of range) is reported by the next Step().
  Stmt& Bind(int i, std::string_view text);
  Stmt& Bind(int i, const char* text) { return Bind(i, std::string_view(text)); }
  Stmt& Bind(int i, const std::string& text) { return Bind(i, std::string_view(text)); }
  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, int v) { return Bind(i, static_cast<int64_t>(v)); }
  Stmt& Bind(int i, double v);
  Stmt& Bind(int i, std::nullopt_t);
  Stmt& BindBlob(int i, std::string_view bytes);
  Stmt& BindNull(int i) { return Bind(i, std::nullopt); }

  // Advances: true while a row is available, false when done, or an error.
  Result<bool> Step();
  // Runs to completion, ignoring rows (INSERT/UPDATE/DELETE).
  Status Run();
  // Rewinds and clears the bindings, for reuse.
  void Reset();

  // Columns are 0-based, valid after Step() returned true.
  bool IsNull(int col) const;
  std::string Text(int col) const;  // NULL -> ""
  std::string Blob(int col) const;  // NULL -> ""
  int64_t Int(int col) const;
  double Real(int col) const;
  std::optional<std::string> OptText(int col) const;
  int ColumnCount() const;

 private:
  friend class Db;
  Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  Status Error(int rc) const;
  sqlite3* db_;
  sqlite3_stmt* s_;
  int bind_rc_ = 0;  // first failed bind, reported by Step()
};

class Db {
 public:
  // Opens `path` with the options, then runs quick_check (DataLoss naming the file if the
  // database is damaged or not a database at all).
  static Result<Db> Open(const std::string& path, const OpenOptions& options = {});
  Db(Db&& o) noexcept;
  Db& operator=(Db&& o) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db();

  const std::string& path() const { return path_; }

  // Runs one or more statements without results.
  Status Exec(std::string_view sql);
  Result<Stmt> Prepare(std::string_view sql) const;

  // Brings the schema to the last migration's version: each pending migration runs in its
  // own IMMEDIATE transaction together with the user_version bump, so a crash leaves the
  // database at a whole version. FailedPrecondition if the file's version is newer than the
  // last migration (written by a newer program). Safe against concurrent openers.
  Status Migrate(const std::vector<Migration>& migrations);
  Result<int> UserVersion() const;

  // PRAGMA quick_check: OK, or DataLoss naming the file and SQLite's first findings.
  Status QuickCheck() const;

  // Runs `body` in an IMMEDIATE transaction; commits if it returns OK, else rolls back.
  // Nested calls join the outer transaction.
  Status InTransaction(const std::function<Status()>& body);
  bool in_transaction() const;

  int64_t Changes() const;
  int64_t LastInsertRowId() const;

  // The Status for SQLite result code `rc` on this connection (see the header comment).
  Status Error(int rc, std::string_view what) const;

 private:
  explicit Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  // PRAGMA journal_mode=WAL, retried for up to `timeout_ms` while another connection holds the
  // file (SQLite does not apply the busy handler to this switch).
  Status SwitchToWal(int timeout_ms);
  sqlite3* db_ = nullptr;
  std::string path_;
};

// An IMMEDIATE transaction: rolled back on destruction unless committed.
class Transaction {
 public:
  static Result<Transaction> Begin(Db& db);
  // A read snapshot (deferred BEGIN: takes no write lock; in WAL mode every SELECT inside sees
  // the database as of the first one). End it with Commit() or let the destructor roll it back.
  static Result<Transaction> BeginRead(Db& db);
  Transaction(Transaction&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  ~Transaction();
  Status Commit();
  Status Rollback();

 private:
  explicit Transaction(Db* db) : db_(db) {}
  Db* db_;
};

// The Status for a raw SQLite result code (used by the adapter; exposed for tests).
Status StatusFromSqlite(int extended_rc, std::string message);

}  // namespace vqi::sqlite
