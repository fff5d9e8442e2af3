#include "sqlite.h"

namespace vqi::dataset {
namespace {

Status SqlError(sqlite3* db, int rc, const std::string& what) {
  std::string msg = "sqlite: " + what + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return Unavailable(msg);
  if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) return DataLoss(msg);
  if (rc == SQLITE_CONSTRAINT) return AlreadyExists(msg);
  return Internal(msg);
}

}  // namespace

Stmt& Stmt::Bind(int i, std::string_view v) {
  sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::Bind(int i, int64_t v) {
  sqlite3_bind_int64(s_, i, v);
  return *this;
}
Stmt& Stmt::Bind(int i, double v) {
  sqlite3_bind_double(s_, i, v);
  return *this;
}

Result<bool> Stmt::Step() {
  const int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqlError(db_, rc, sqlite3_sql(s_));
}

Status Stmt::Run() {
  for (;;) {
    VQI_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

Status Stmt::Reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
  return Status::Ok();
}

std::string Stmt::Text(int col) const {
  const unsigned char* t = sqlite3_column_text(s_, col);
  return t ? std::string(reinterpret_cast<const char*>(t),
                         static_cast<size_t>(sqlite3_column_bytes(s_, col)))
           : std::string();
}

Result<Db> Db::Open(const std::string& path) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status st = SqlError(db, rc, "open " + path);
    sqlite3_close(db);
    return st;
  }
  sqlite3_busy_timeout(db, 10000);
  return Db(db);
}

Status Db::Exec(const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return SqlError(nullptr, rc, sql.substr(0, 60) + ": " + msg);
  }
  return Status::Ok();
}

Result<Stmt> Db::Prepare(const std::string& sql) const {
  sqlite3_stmt* s = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr);
  if (rc != SQLITE_OK) return SqlError(db_, rc, "prepare " + sql);
  return Stmt(db_, s);
}

}  // namespace vqi::dataset
