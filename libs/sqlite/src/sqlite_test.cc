#include "vqi/sqlite/sqlite.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

namespace vqi::sqlite {
namespace {
namespace fs = std::filesystem;

class SqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vqi_sqlite_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name = "t.db") const { return (dir_ / name).string(); }

  // A closed database of `rows` rows in table t (several pages).
  void MakeDb(const std::string& path, int rows) {
    auto db = Db::Open(path);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE(db->Exec("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)").ok());
    ASSERT_TRUE(db->InTransaction([&] {
                    auto st = db->Prepare("INSERT INTO t(v) VALUES(?)");
                    if (!st.ok()) return st.status();
                    for (int i = 0; i < rows; ++i) {
                      st->Reset();
                      VQI_RETURN_IF_ERROR(st->Bind(1, std::string(100, 'a' + i % 26)).Run());
                    }
                    return Status::Ok();
                  }).ok());
  }

  static void Overwrite(const std::string& path, long offset, const std::string& bytes) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(offset);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

  fs::path dir_;
};

TEST_F(SqliteTest, OpenSetsWalForeignKeysAndBindsRoundTrip) {
  auto db = Db::Open(Path());
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto mode = db->Prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.ok());
  ASSERT_TRUE(*mode->Step());
  EXPECT_EQ(mode->Text(0), "wal");
  auto fk = db->Prepare("PRAGMA foreign_keys");
  ASSERT_TRUE(*fk->Step());
  EXPECT_EQ(fk->Int(0), 1);

  ASSERT_TRUE(db->Exec("CREATE TABLE r(s TEXT, i INTEGER, d REAL, b BLOB, n TEXT)").ok());
  const std::string bytes("a\0\xff\xfe z", 6);  // not UTF-8, embedded NUL
  auto ins = db->Prepare("INSERT INTO r VALUES(?,?,?,?,?)");
  ASSERT_TRUE(ins.ok());
  ASSERT_TRUE(ins->Bind(1, bytes)
                  .Bind(2, int64_t{1} << 40)
                  .Bind(3, 0.1)
                  .BindBlob(4, bytes)
                  .BindNull(5)
                  .Run()
                  .ok());
  EXPECT_EQ(db->Changes(), 1);
  auto q = db->Prepare("SELECT s, i, d, b, n FROM r");
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->Text(0), bytes);
  EXPECT_EQ(q->Int(1), int64_t{1} << 40);
  EXPECT_EQ(q->Real(2), 0.1);
  EXPECT_EQ(q->Blob(3), bytes);
  EXPECT_TRUE(q->IsNull(4));
  EXPECT_FALSE(q->OptText(4).has_value());
  EXPECT_FALSE(*q->Step());
}

TEST_F(SqliteTest, EmptyStringBindsAsEmptyNotNull) {
  auto db = Db::Open(Path());
  ASSERT_TRUE(db->Exec("CREATE TABLE r(s TEXT NOT NULL)").ok());
  auto ins = db->Prepare("INSERT INTO r VALUES(?)");
  ASSERT_TRUE(ins->Bind(1, std::string_view()).Run().ok());
}

TEST_F(SqliteTest, ErrorsCarrySqliteMessageAndMapToCodes) {
  auto db = Db::Open(Path());
  ASSERT_TRUE(db->Exec("CREATE TABLE p(id INTEGER PRIMARY KEY);"
                       "CREATE TABLE c(p INTEGER NOT NULL REFERENCES p(id))")
                  .ok());
  ASSERT_TRUE(db->Exec("INSERT INTO p VALUES(1)").ok());
  Status dup = db->Exec("INSERT INTO p VALUES(1)");
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists) << dup.ToString();
  EXPECT_NE(dup.message().find("UNIQUE constraint failed: p.id"), std::string::npos)
      << dup.message();
  EXPECT_NE(dup.message().find("extended code 1555"), std::string::npos) << dup.message();
  Status fk = db->Exec("INSERT INTO c VALUES(7)");
  EXPECT_EQ(fk.code(), StatusCode::kFailedPrecondition) << fk.ToString();
  EXPECT_NE(fk.message().find("FOREIGN KEY constraint failed"), std::string::npos);
  auto bad = db->Prepare("SELEC 1");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInternal);
  EXPECT_NE(bad.status().message().find("syntax error"), std::string::npos);
  // A bind out of range is reported by the next Step.
  auto st = db->Prepare("SELECT ?");
  auto row = st->Bind(2, int64_t{1}).Step();
  ASSERT_FALSE(row.ok());
  EXPECT_NE(row.status().message().find("bind"), std::string::npos);
}

TEST_F(SqliteTest, BusyIsUnavailable) {
  OpenOptions o;
  o.busy_timeout_ms = 50;
  auto a = Db::Open(Path(), o);
  auto b = Db::Open(Path(), o);
  ASSERT_TRUE(a.ok() && b.ok());
  auto tx = Transaction::Begin(*a);
  ASSERT_TRUE(tx.ok());
  auto tx2 = Transaction::Begin(*b);
  ASSERT_FALSE(tx2.ok());
  EXPECT_EQ(tx2.status().code(), StatusCode::kUnavailable) << tx2.status().ToString();
  EXPECT_NE(tx2.status().message().find("locked"), std::string::npos) << tx2.status().ToString();
}

TEST_F(SqliteTest, TransactionRollsBackUnlessCommitted) {
  auto db = Db::Open(Path());
  ASSERT_TRUE(db->Exec("CREATE TABLE t(v INTEGER)").ok());
  {
    auto tx = Transaction::Begin(*db);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES(1)").ok());
    EXPECT_TRUE(db->in_transaction());
  }  // destroyed without Commit
  EXPECT_FALSE(db->in_transaction());
  Status failed = db->InTransaction([&] {
    VQI_RETURN_IF_ERROR(db->Exec("INSERT INTO t VALUES(2)"));
    return InvalidArgument("stop");
  });
  EXPECT_EQ(failed.code(), StatusCode::kInvalidArgument);
  {
    auto tx = Transaction::Begin(*db);
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES(3)").ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  auto q = db->Prepare("SELECT group_concat(v) FROM t");
  ASSERT_TRUE(*q->Step());
  EXPECT_EQ(q->Text(0), "3");
  // Nested InTransaction joins the outer one.
  ASSERT_TRUE(
      db->InTransaction([&] { return db->InTransaction([] { return Status::Ok(); }); }).ok());
}

TEST_F(SqliteTest, ReadTransactionSeesOneSnapshotAndDoesNotBlockWriters) {
  auto reader = Db::Open(Path());
  ASSERT_TRUE(reader->Exec("CREATE TABLE t(v INTEGER)").ok());
  ASSERT_TRUE(reader->Exec("INSERT INTO t VALUES(1)").ok());
  auto writer = Db::Open(Path());
  ASSERT_TRUE(writer.ok());
  auto count = [&] {
    auto q = reader->Prepare("SELECT COUNT(*) FROM t");
    EXPECT_TRUE(*q->Step());
    return q->Int(0);
  };
  {
    auto snap = Transaction::BeginRead(*reader);
    ASSERT_TRUE(snap.ok()) << snap.status().ToString();
    EXPECT_EQ(count(), 1);
    // A writer commits while the snapshot is open (no lock is held against it) ...
    ASSERT_TRUE(writer->Exec("INSERT INTO t VALUES(2)").ok());
    EXPECT_EQ(count(), 1);  // ... and the snapshot does not see it
    EXPECT_EQ(Transaction::BeginRead(*reader).status().code(), StatusCode::kFailedPrecondition);
    ASSERT_TRUE(snap->Commit().ok());
  }
  EXPECT_EQ(count(), 2);
}

TEST_F(SqliteTest, MigrationsRunOnceEachInOrderAndAtomically) {
  std::vector<Migration> v1 = {{1, "CREATE TABLE a(x INTEGER)", nullptr}};
  {
    auto db = Db::Open(Path());
    ASSERT_TRUE(db->Migrate(v1).ok());
    EXPECT_EQ(*db->UserVersion(), 1);
    ASSERT_TRUE(db->Migrate(v1).ok());  // idempotent
  }
  int applied = 0;
  std::vector<Migration> v3 = v1;
  v3.push_back({2, "", [&](Db& d) {
                  ++applied;
                  return d.Exec("ALTER TABLE a ADD COLUMN y TEXT");
                }});
  v3.push_back({3, "CREATE TABLE b(z INTEGER); CREATE TABLE broken(", nullptr});
  auto db = Db::Open(Path());
  Status st = db->Migrate(v3);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("schema version 3"), std::string::npos) << st.ToString();
  EXPECT_EQ(*db->UserVersion(), 2);  // 2 committed, 3 rolled back whole
  EXPECT_FALSE(db->Prepare("SELECT * FROM b").ok());
  EXPECT_EQ(applied, 1);
  // A program that only knows version 1 refuses the newer file.
  Status old = db->Migrate(v1);
  EXPECT_EQ(old.code(), StatusCode::kFailedPrecondition) << old.ToString();
}

// Several processes create and open one new file at the same instant (as `vqi workflow` runs
// do): each must get a WAL database at the latest schema version, none "database is locked".
TEST_F(SqliteTest, ConcurrentOpenersOfOneNewFileAllSucceed) {
  constexpr int kProcs = 8;
  constexpr int kRounds = 12;
  const std::vector<Migration> migrations = {
      {1, "CREATE TABLE a(x INTEGER)", nullptr},
      {2, "CREATE TABLE b(y INTEGER); INSERT INTO b VALUES(1)", nullptr}};
  for (int round = 0; round < kRounds; ++round) {
    const std::string path = Path("race" + std::to_string(round) + ".db");
    int gate[2];
    ASSERT_EQ(::pipe(gate), 0);
    std::vector<pid_t> kids;
    for (int i = 0; i < kProcs; ++i) {
      const pid_t pid = ::fork();
      ASSERT_GE(pid, 0);
      if (pid == 0) {
        ::close(gate[1]);
        char c;
        (void)!::read(gate[0], &c, 1);  // returns 0 when the parent closes the write end
        auto db = Db::Open(path);
        Status st = db.ok() ? db->Migrate(migrations) : db.status();
        if (st.ok()) {
          auto mode = db->Prepare("PRAGMA journal_mode");
          auto row = mode.ok() ? mode->Step() : Result<bool>(mode.status());
          if (!row.ok() || !*row || mode->Text(0) != "wal")
            st = Internal("journal_mode is not wal");
        }
        if (!st.ok()) std::fprintf(stderr, "opener %d: %s\n", i, st.ToString().c_str());
        ::_exit(st.ok() ? 0 : 1);
      }
      kids.push_back(pid);
    }
    ::close(gate[0]);
    ::close(gate[1]);  // releases every child at once
    int failed = 0;
    for (pid_t pid : kids) {
      int status = 0;
      ASSERT_EQ(::waitpid(pid, &status, 0), pid);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed;
    }
    EXPECT_EQ(failed, 0) << "round " << round << ": " << failed << " of " << kProcs
                         << " openers failed (see stderr)";
    auto db = Db::Open(path);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    EXPECT_EQ(*db->UserVersion(), 2);
    auto q = db->Prepare("SELECT count(*) FROM b");
    ASSERT_TRUE(*q->Step());
    EXPECT_EQ(q->Int(0), 1);  // migration 2 ran exactly once
  }
}

TEST_F(SqliteTest, DamagedPageIsDataLossNamingTheFile) {
  const std::string path = Path();
  MakeDb(path, 2000);
  ASSERT_FALSE(fs::exists(path + "-wal") && fs::file_size(path + "-wal") > 0);
  // Scribble over the b-tree page headers of pages 2..4.
  for (long page = 1; page <= 3; ++page) Overwrite(path, page * 4096, std::string(64, '\x7f'));
  auto db = Db::Open(path);
  ASSERT_FALSE(db.ok()) << "damaged database opened as healthy";
  EXPECT_EQ(db.status().code(), StatusCode::kDataLoss) << db.status().ToString();
  EXPECT_NE(db.status().message().find(path), std::string::npos) << db.status().ToString();
}

TEST_F(SqliteTest, NotADatabaseIsDataLoss) {
  const std::string path = Path();
  MakeDb(path, 10);
  Overwrite(path, 0, "this is not a sqlite header!");
  auto db = Db::Open(path);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kDataLoss) << db.status().ToString();
  EXPECT_NE(db.status().message().find(path), std::string::npos);
  EXPECT_NE(db.status().message().find("not a database"), std::string::npos)
      << db.status().ToString();
}

TEST_F(SqliteTest, MissingFileWithoutCreateIsNotFound) {
  OpenOptions o;
  o.create = false;
  auto db = Db::Open(Path("missing.db"), o);
  EXPECT_EQ(db.status().code(), StatusCode::kNotFound) << db.status().ToString();
  EXPECT_FALSE(fs::exists(Path("missing.db")));
}

TEST_F(SqliteTest, ReadOnlyWriteIsPermissionDenied) {
  MakeDb(Path(), 1);
  OpenOptions o;
  o.read_only = true;
  auto db = Db::Open(Path(), o);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  Status st = db->Exec("INSERT INTO t(v) VALUES('x')");
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied) << st.ToString();
}

TEST(StatusFromSqliteTest, MapsPrimaryCodes) {
  EXPECT_EQ(StatusFromSqlite(SQLITE_CORRUPT, "m").code(), StatusCode::kDataLoss);
  EXPECT_EQ(StatusFromSqlite(SQLITE_NOTADB, "m").code(), StatusCode::kDataLoss);
  EXPECT_EQ(StatusFromSqlite(SQLITE_BUSY_SNAPSHOT, "m").code(), StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromSqlite(SQLITE_FULL, "m").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(StatusFromSqlite(SQLITE_IOERR_WRITE, "m").code(), StatusCode::kUnavailable);
  EXPECT_EQ(StatusFromSqlite(SQLITE_MISUSE, "m").code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace vqi::sqlite
