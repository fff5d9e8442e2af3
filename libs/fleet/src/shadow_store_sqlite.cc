// ShadowStore on SQLite (libs/sqlite). docs/design/shadow.md.
#include <filesystem>

#include "vqi/base/file.h"
#include "vqi/fleet/shadow_store.h"
#include "vqi/sqlite/sqlite.h"

namespace vqi::fleet {
namespace {

constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE shadow_stats(
  thing TEXT NOT NULL,
  component TEXT NOT NULL,
  candidate_component TEXT NOT NULL,
  candidate_version TEXT NOT NULL,
  candidate_name TEXT NOT NULL,
  live_name TEXT NOT NULL,
  live_version TEXT NOT NULL,
  images INTEGER NOT NULL, verdict_agree INTEGER NOT NULL,
  live_fail INTEGER NOT NULL, candidate_fail INTEGER NOT NULL, candidate_errors INTEGER NOT NULL,
  boxes_live INTEGER NOT NULL, boxes_candidate INTEGER NOT NULL, boxes_matched INTEGER NOT NULL,
  box_slots INTEGER NOT NULL, pairs INTEGER NOT NULL,
  sum_best_shift REAL NOT NULL, sum_pair_shift REAL NOT NULL,
  sum_live_ms REAL NOT NULL, sum_candidate_ms REAL NOT NULL,
  live_p95_ms REAL NOT NULL, candidate_p95_ms REAL NOT NULL,
  at TEXT NOT NULL,
  received_ms INTEGER NOT NULL,
  PRIMARY KEY(thing, component, candidate_component, candidate_version));
CREATE INDEX shadow_candidate ON shadow_stats(candidate_component, candidate_version);
)sql";

constexpr const char* kColumns =
    "thing, component, candidate_component, candidate_version, candidate_name, live_name, "
    "live_version, images, verdict_agree, live_fail, candidate_fail, candidate_errors, "
    "boxes_live, boxes_candidate, boxes_matched, box_slots, pairs, sum_best_shift, "
    "sum_pair_shift, sum_live_ms, sum_candidate_ms, live_p95_ms, candidate_p95_ms, at, "
    "received_ms";

class SqliteShadowStore : public ShadowStore {
 public:
  explicit SqliteShadowStore(sqlite::Db db) : db_(std::move(db)) {}

  Status Put(const ShadowStats& s, int64_t received_ms) override {
    VQI_ASSIGN_OR_RETURN(
        sqlite::Stmt st,
        db_.Prepare(std::string("INSERT OR REPLACE INTO shadow_stats(") + kColumns +
                    ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    st.Bind(1, s.thing)
        .Bind(2, s.component)
        .Bind(3, s.candidate_component)
        .Bind(4, s.candidate_version)
        .Bind(5, s.candidate_name)
        .Bind(6, s.live_name)
        .Bind(7, s.live_version)
        .Bind(8, s.images)
        .Bind(9, s.verdict_agree)
        .Bind(10, s.live_fail)
        .Bind(11, s.candidate_fail)
        .Bind(12, s.candidate_errors)
        .Bind(13, s.boxes_live)
        .Bind(14, s.boxes_candidate)
        .Bind(15, s.boxes_matched)
        .Bind(16, s.box_slots)
        .Bind(17, s.pairs)
        .Bind(18, s.sum_best_shift)
        .Bind(19, s.sum_pair_shift)
        .Bind(20, s.sum_live_ms)
        .Bind(21, s.sum_candidate_ms)
        .Bind(22, s.live_p95_ms)
        .Bind(23, s.candidate_p95_ms)
        .Bind(24, s.at)
        .Bind(25, received_ms);
    return st.Run();
  }

  Result<std::vector<StoredShadowStats>> List(const std::string& candidate_component,
                                              const std::string& candidate_version) override {
    std::string sql = std::string("SELECT ") + kColumns + " FROM shadow_stats";
    if (!candidate_component.empty() || !candidate_version.empty())
      sql += " WHERE (?1 = '' OR candidate_component = ?1) AND candidate_version = ?2";
    sql += " ORDER BY thing, component, candidate_component, candidate_version";
    VQI_ASSIGN_OR_RETURN(sqlite::Stmt st, db_.Prepare(sql));
    if (!candidate_component.empty() || !candidate_version.empty())
      st.Bind(1, candidate_component).Bind(2, candidate_version);
    std::vector<StoredShadowStats> out;
    while (true) {
      VQI_ASSIGN_OR_RETURN(bool row, st.Step());
      if (!row) break;
      StoredShadowStats r;
      ShadowStats& s = r.stats;
      s.thing = st.Text(0);
      s.component = st.Text(1);
      s.candidate_component = st.Text(2);
      s.candidate_version = st.Text(3);
      s.candidate_name = st.Text(4);
      s.live_name = st.Text(5);
      s.live_version = st.Text(6);
      s.images = st.Int(7);
      s.verdict_agree = st.Int(8);
      s.live_fail = st.Int(9);
      s.candidate_fail = st.Int(10);
      s.candidate_errors = st.Int(11);
      s.boxes_live = st.Int(12);
      s.boxes_candidate = st.Int(13);
      s.boxes_matched = st.Int(14);
      s.box_slots = st.Int(15);
      s.pairs = st.Int(16);
      s.sum_best_shift = st.Real(17);
      s.sum_pair_shift = st.Real(18);
      s.sum_live_ms = st.Real(19);
      s.sum_candidate_ms = st.Real(20);
      s.live_p95_ms = st.Real(21);
      s.candidate_p95_ms = st.Real(22);
      s.at = st.Text(23);
      r.received_ms = st.Int(24);
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  sqlite::Db db_;
};

}  // namespace

std::string ShadowDbPath(const std::string& home) { return home + "/fleet/shadow.db"; }

Result<std::unique_ptr<ShadowStore>> OpenSqliteShadowStore(const std::string& path, bool create) {
  if (create) {
    const std::string dir = std::filesystem::path(path).parent_path().string();
    if (!dir.empty()) VQI_RETURN_IF_ERROR(MakeDirs(dir));
  }
  sqlite::OpenOptions o;
  o.create = create;
  VQI_ASSIGN_OR_RETURN(sqlite::Db db, sqlite::Db::Open(path, o));
  VQI_RETURN_IF_ERROR(db.Migrate({{1, kSchemaV1, nullptr}}).WithContext("shadow store " + path));
  return std::unique_ptr<ShadowStore>(new SqliteShadowStore(std::move(db)));
}

Status IngestShadowMessage(ShadowStore& store, const std::string& thing,
                           const std::string& component, std::string_view payload, int64_t now_ms) {
  VQI_ASSIGN_OR_RETURN(ShadowStats s, ParseShadowMessage(payload, thing, component));
  return store.Put(s, now_ms);
}

}  // namespace vqi::fleet
