#include "vqi/server/upload_log.h"

#include <mutex>

#include "vqi/base/file.h"
#include "vqi/sqlite/sqlite.h"

namespace vqi::server {
namespace {

const std::vector<sqlite::Migration> kMigrations = {
    {1,
     "CREATE TABLE IF NOT EXISTS uploads ("
     "  seq INTEGER PRIMARY KEY,"
     "  digest TEXT NOT NULL,"
     "  size INTEGER NOT NULL,"
     "  who TEXT NOT NULL,"
     "  unix_ms INTEGER NOT NULL);"
     "CREATE INDEX IF NOT EXISTS uploads_by_time ON uploads(unix_ms);",
     {}},
};

class SqliteUploadLog : public UploadLog {
 public:
  explicit SqliteUploadLog(sqlite::Db db) : db_(std::move(db)) {}

  Status Record(const std::string& digest, int64_t size, const std::string& who,
                int64_t unix_ms) override {
    std::lock_guard<std::mutex> lock(mu_);
    VQI_ASSIGN_OR_RETURN(
        sqlite::Stmt st,
        db_.Prepare("INSERT INTO uploads(digest, size, who, unix_ms) VALUES(?, ?, ?, ?)"));
    st.Bind(1, digest).Bind(2, size).Bind(3, who).Bind(4, unix_ms);
    return st.Run();
  }

  Result<std::set<std::string>> UploadedSince(int64_t since_unix_ms) override {
    std::lock_guard<std::mutex> lock(mu_);
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt st,
                         db_.Prepare("SELECT DISTINCT digest FROM uploads WHERE unix_ms >= ?"));
    st.Bind(1, since_unix_ms);
    std::set<std::string> out;
    while (true) {
      VQI_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      out.insert(st.Text(0));
    }
    return out;
  }

 private:
  std::mutex mu_;
  sqlite::Db db_;  // guarded by mu_
};

}  // namespace

Result<std::unique_ptr<UploadLog>> OpenUploadLog(const std::string& home, bool create) {
  const std::string dir = home + "/server";
  if (create) VQI_RETURN_IF_ERROR(MakeDirs(dir));
  sqlite::OpenOptions o;
  o.create = create;
  VQI_ASSIGN_OR_RETURN(sqlite::Db db, sqlite::Db::Open(dir + "/uploads.db", o));
  VQI_RETURN_IF_ERROR(db.Migrate(kMigrations));
  return std::unique_ptr<UploadLog>(new SqliteUploadLog(std::move(db)));
}

}  // namespace vqi::server
