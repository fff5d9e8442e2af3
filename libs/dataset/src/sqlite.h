// A thin RAII adapter over the SQLite C API: every failure becomes a Status naming the
// statement. Private to libs/dataset. Not thread-safe (one connection per Store).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "vqi/base/status.h"

namespace vqi::dataset {

class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_) { o.s_ = nullptr; }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(s_); }

  // Binds are 1-based; return *this for chaining.
  Stmt& Bind(int i, std::string_view v);
  Stmt& Bind(int i, int64_t v);
  Stmt& Bind(int i, double v);
  // Advances: true while a row is available, false when done, or an error.
  Result<bool> Step();
  // Runs to completion (for statements without result rows).
  Status Run();
  Status Reset();

  std::string Text(int col) const;
  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  double Real(int col) const { return sqlite3_column_double(s_, col); }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_;
};

class Db {
 public:
  static Result<Db> Open(const std::string& path);
  Db(Db&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  ~Db() { sqlite3_close(db_); }

  Status Exec(const std::string& sql);
  Result<Stmt> Prepare(const std::string& sql) const;
  int64_t Changes() const { return sqlite3_changes64(db_); }

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace vqi::dataset
