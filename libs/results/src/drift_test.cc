// Drift on the server: a result's `drift` field and the vqi.inspect.drift/1 alert messages
// (parsed defensively) set the thing's drift counters; the "drift" handler plugged into the
// ingest stores each alert once.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "test_util.h"
#include "vqi/results/drift_message.h"
#include "vqi/results/ingest.h"
#include "vqi/results/store.h"
#include "vqi/sqlite/sqlite.h"

namespace vqi::results {
namespace {

namespace topics = transport::topics;

Json AlertDoc(const std::string& thing, int n, bool raised, double score) {
  return Json{{"schema", "vqi.inspect.drift/1"},
              {"id", thing + ":" + testing::ImageId(n) + ":drift"},
              {"thing", thing},
              {"component", "vqi.inspect"},
              {"state", raised ? "raised" : "cleared"},
              {"alert", raised},
              {"score", score},
              {"feature", "brightness"},
              {"window", 200},
              {"scores", {{"brightness", score}, {"contrast", 0.5}}},
              {"model", {{"name", "tags"}, {"version", "1.0.2"}}},
              {"image", {{"id", testing::ImageId(n)}, {"name", "img.jpg"}}},
              {"timestamp", "2026-12-06T10:00:0" + std::to_string(n % 10) + ".000Z"}};
}

SubKindMessage Msg(const std::string& thing, const std::string& payload) {
  return {topics::DriftTopic(thing, "vqi.inspect"), thing, "vqi.inspect", "drift", payload, 0};
}

TEST(DriftMessageTest, ParsesAValidAlert) {
  auto d = ParseDriftMessage(Msg("cam-1", AlertDoc("cam-1", 3, true, 1.75).dump()));
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_TRUE(d->raised);
  EXPECT_DOUBLE_EQ(d->drift.score, 1.75);
  EXPECT_EQ(d->drift.feature, "brightness");
  EXPECT_EQ(d->drift.window, 200);
  EXPECT_EQ(d->model_version, "1.0.2");
  EXPECT_EQ(d->id, "cam-1:" + testing::ImageId(3) + ":drift");
}

TEST(DriftMessageTest, RefusesBadMessagesNamingTheField) {
  struct Bad {
    const char* key;
    Json value;
    StatusCode code;
    const char* expect;
  };
  const std::vector<Bad> cases = {
      {"schema", "vqi.inspect.result/1", StatusCode::kInvalidArgument, "schema:"},
      {"thing", "cam-2", StatusCode::kPermissionDenied, "is not the topic's thing"},
      {"component", "other", StatusCode::kPermissionDenied, "is not the topic's component"},
      {"id", "cam-2:x:drift", StatusCode::kPermissionDenied, "id:"},
      {"state", "up", StatusCode::kInvalidArgument, "state: \"up\"; accepted: raised, cleared"},
      {"alert", false, StatusCode::kInvalidArgument, "alert: false contradicts state"},
      {"score", "high", StatusCode::kInvalidArgument, "score: expected a number"},
      {"score", -1, StatusCode::kInvalidArgument, "score:"},
      {"window", 1.5, StatusCode::kInvalidArgument, "window:"},
      {"feature", 7, StatusCode::kInvalidArgument, "feature: expected a string"},
      {"model", "x", StatusCode::kInvalidArgument, "model: expected an object"},
  };
  for (const Bad& b : cases) {
    Json j = AlertDoc("cam-1", 1, true, 2);
    j[b.key] = b.value;
    auto d = ParseDriftMessage(Msg("cam-1", j.dump()));
    ASSERT_FALSE(d.ok()) << b.key;
    EXPECT_EQ(d.status().code(), b.code) << d.status().ToString();
    EXPECT_NE(d.status().message().find(b.expect), std::string::npos) << d.status().ToString();
  }
  EXPECT_EQ(ParseDriftMessage(Msg("cam-1", "{nope")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ParseDriftMessage(Msg("cam-1", std::string(kMaxDriftMessageBytes + 1, ' '))).status().code(),
      StatusCode::kResourceExhausted);
}

TEST(DriftMessageTest, AResultsDriftFieldIsParsedAndChecked) {
  Json j = testing::ResultDoc("cam-1", 1);
  j["drift"] = {{"score", 0.42}, {"alert", false}, {"feature", "contrast"}, {"window", 60}};
  auto r = ParseResultMessage(testing::Topic("cam-1"), j.dump());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->drift);
  EXPECT_DOUBLE_EQ(r->drift->score, 0.42);
  EXPECT_EQ(r->drift->feature, "contrast");
  j["drift"]["alert"] = "no";
  r = ParseResultMessage(testing::Topic("cam-1"), j.dump());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("drift.alert: expected true or false"), std::string::npos)
      << r.status().ToString();
}

class DriftStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("results_drift_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    store_ = Open();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::shared_ptr<ResultStore> Open() {
    ResultStoreOptions o;
    o.clock = &clock_;
    auto s = OpenSqliteResultStore(ResultsDbPath(dir_.string()), o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::shared_ptr<ResultStore>(std::move(*s));
  }
  std::filesystem::path dir_;
  FakeClock clock_{1796551200000};  // 2026-12-06T10:00:00Z
  std::shared_ptr<ResultStore> store_;
};

TEST_F(DriftStoreTest, ResultsAndAlertsSetTheThingsDriftState) {
  Json j = testing::ResultDoc("cam-1", 1);
  ASSERT_TRUE(store_->Add(*ParseResultMessage(testing::Topic("cam-1"), j.dump())).ok());
  auto c = store_->Counters("cam-1");
  EXPECT_EQ(c->drift_score, -1);  // no report yet
  EXPECT_TRUE(ThingCountersToJson(*c)["drift"].is_null());
  j = testing::ResultDoc("cam-1", 2);
  j["drift"] = {{"score", 0.31}, {"alert", false}, {"feature", "contrast"}, {"window", 50}};
  ASSERT_TRUE(store_->Add(*ParseResultMessage(testing::Topic("cam-1"), j.dump())).ok());
  c = store_->Counters("cam-1");
  EXPECT_DOUBLE_EQ(c->drift_score, 0.31);
  EXPECT_EQ(c->drift_feature, "contrast");
  EXPECT_EQ(c->drift_window, 50);
  EXPECT_FALSE(c->drift_alert);
  EXPECT_EQ(c->drift_at, "2026-12-06T10:00:00.000Z");

  clock_.Advance(1500);
  auto raised = ParseDriftMessage(Msg("cam-1", AlertDoc("cam-1", 3, true, 2.5).dump()));
  ASSERT_TRUE(raised.ok());
  auto out = store_->AddDriftAlerts({*raised, *raised});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0], AddOutcome::kStored);
  EXPECT_EQ((*out)[1], AddOutcome::kDuplicate);
  c = store_->Counters("cam-1");
  EXPECT_TRUE(c->drift_alert);
  EXPECT_DOUBLE_EQ(c->drift_score, 2.5);
  EXPECT_EQ(c->drift_feature, "brightness");
  EXPECT_EQ(c->drift_alerts, 1);
  EXPECT_EQ(c->drift_alert_changed, "2026-12-06T10:00:03.000Z");  // the device's time
  EXPECT_EQ(c->drift_at, "2026-12-06T10:00:01.500Z");
  const Json js = ThingCountersToJson(*c)["drift"];
  EXPECT_EQ(js["alert"], true);
  EXPECT_EQ(js["score"], 2.5);
  EXPECT_EQ(js["alertsRaised"], 1);

  auto cleared = ParseDriftMessage(Msg("cam-1", AlertDoc("cam-1", 4, false, 0.8).dump()));
  ASSERT_TRUE(store_->AddDriftAlerts({*cleared}).ok());
  c = store_->Counters("cam-1");
  EXPECT_FALSE(c->drift_alert);
  EXPECT_EQ(c->drift_alerts, 1);
  EXPECT_EQ(c->images, 2);  // alerts are not results
  // A restarted device starts cleared and sends no message: its results move the state.
  j = testing::ResultDoc("cam-1", 5);
  j["timestamp"] = "2026-12-06T10:00:05.000Z";
  j["drift"] = {{"score", 1.5}, {"alert", true}, {"feature", "contrast"}, {"window", 50}};
  ASSERT_TRUE(store_->Add(*ParseResultMessage(testing::Topic("cam-1"), j.dump())).ok());
  c = store_->Counters("cam-1");
  EXPECT_TRUE(c->drift_alert);
  EXPECT_EQ(c->drift_alert_changed, "2026-12-06T10:00:05.000Z");
  EXPECT_EQ(c->drift_alerts, 1);  // raised messages only
  j = testing::ResultDoc("cam-1", 6);
  j["timestamp"] = "2026-12-06T10:00:04.500Z";  // older than the stored report: ignored
  j["drift"] = {{"score", 0.1}, {"alert", false}, {"feature", "contrast"}, {"window", 50}};
  ASSERT_TRUE(store_->Add(*ParseResultMessage(testing::Topic("cam-1"), j.dump())).ok());
  EXPECT_TRUE(store_->Counters("cam-1")->drift_alert);
  // A thing whose first message is an alert gets a counters row.
  auto other = ParseDriftMessage(Msg("cam-2", AlertDoc("cam-2", 1, true, 3).dump()));
  ASSERT_TRUE(store_->AddDriftAlerts({*other}).ok());
  EXPECT_TRUE(store_->Counters("cam-2")->drift_alert);
}

TEST_F(DriftStoreTest, TheHandlerPluggedIntoTheIngest) {
  IngestOptions o;
  o.clock = &clock_;
  o.sub_handlers[std::string(topics::kDriftSub)] = MakeDriftHandler(Open());
  ResultIngestor in(store_.get(), o);
  const std::string topic = topics::DriftTopic("cam-1", "vqi.inspect");
  Json j = testing::ResultDoc("cam-1", 1);
  j["drift"] = {{"score", 1.2}, {"alert", true}, {"feature", "brightness"}, {"window", 50}};
  ASSERT_TRUE(in.IngestBatch({{testing::Topic("cam-1"), j.dump()},
                              {topic, AlertDoc("cam-1", 1, true, 1.2).dump()},
                              {topic, AlertDoc("cam-1", 1, true, 1.2).dump()},
                              {topic, "{\"schema\": \"vqi.inspect.drift/1\"}"}})
                  .ok());
  const IngestStats s = in.Stats();
  EXPECT_EQ(s.stored, 1u);
  EXPECT_EQ(s.sub.at("drift").handled, 1u);
  EXPECT_EQ(s.sub.at("drift").duplicates, 1u);
  EXPECT_EQ(s.sub.at("drift").refused, 1u);
  auto c = store_->Counters("cam-1");
  EXPECT_TRUE(c->drift_alert);
  EXPECT_EQ(c->drift_alerts, 1);
  EXPECT_EQ(c->refused, 1);
}

// A results.db written before drift existed (schema 1, as on main before this change) is
// migrated in place: its counters stay, the drift state starts empty.
TEST(DriftMigrationTest, AVersionOneDatabaseGetsTheDriftColumns) {
  const std::string dir = std::filesystem::temp_directory_path() /
                          ("results_drift_migration_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/results");
  {
    auto db = sqlite::Db::Open(ResultsDbPath(dir));
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE(db->Exec(R"sql(
CREATE TABLE results(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  thing TEXT NOT NULL,
  component TEXT NOT NULL,
  verdict TEXT NOT NULL,
  uncertain INTEGER NOT NULL,
  timestamp TEXT NOT NULL,
  received TEXT NOT NULL,
  received_ms INTEGER NOT NULL,
  model_name TEXT NOT NULL,
  model_version TEXT NOT NULL,
  image_name TEXT NOT NULL,
  total_ms REAL NOT NULL,
  model_ms REAL NOT NULL,
  payload TEXT NOT NULL);
CREATE INDEX results_thing ON results(thing, seq);
CREATE INDEX results_received ON results(received_ms);
CREATE TABLE thing_counters(
  thing TEXT PRIMARY KEY,
  images INTEGER NOT NULL DEFAULT 0,
  pass INTEGER NOT NULL DEFAULT 0,
  fail INTEGER NOT NULL DEFAULT 0,
  error INTEGER NOT NULL DEFAULT 0,
  uncertain INTEGER NOT NULL DEFAULT 0,
  duplicates INTEGER NOT NULL DEFAULT 0,
  refused INTEGER NOT NULL DEFAULT 0,
  sum_total_ms REAL NOT NULL DEFAULT 0,
  timed_total INTEGER NOT NULL DEFAULT 0,
  sum_model_ms REAL NOT NULL DEFAULT 0,
  timed_model INTEGER NOT NULL DEFAULT 0,
  first_seen TEXT NOT NULL DEFAULT '',
  last_seen TEXT NOT NULL DEFAULT '',
  last_seen_ms INTEGER NOT NULL DEFAULT 0,
  last_model_name TEXT NOT NULL DEFAULT '',
  last_model_version TEXT NOT NULL DEFAULT '');
)sql")
                    .ok());
    ASSERT_TRUE(db->Exec("INSERT INTO thing_counters(thing, images, pass) VALUES('old', 7, 7); "
                         "PRAGMA user_version = 1;")
                    .ok());
  }
  auto store = OpenSqliteResultStore(ResultsDbPath(dir));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto c = (*store)->Counters("old");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->images, 7);
  EXPECT_EQ(c->drift_score, -1);
  EXPECT_FALSE(c->drift_alert);
  auto d = ParseDriftMessage(Msg("old", AlertDoc("old", 1, true, 2).dump()));
  ASSERT_TRUE((*store)->AddDriftAlerts({*d}).ok());
  EXPECT_TRUE((*store)->Counters("old")->drift_alert);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vqi::results
