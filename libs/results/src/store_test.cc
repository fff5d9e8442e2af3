// The SQLite results store: duplicates, counters, retention, queries, the tail cursor,
// a second connection (another process) reading while one writes.
#include "vqi/results/store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.h"

namespace vqi::results {
namespace {

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("results_store_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    Open();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Open(RetentionPolicy retention = {}) {
    ResultStoreOptions o;
    o.retention = retention;
    o.clock = &clock_;
    store_.reset();
    auto s = OpenSqliteResultStore(ResultsDbPath(dir_.string()), o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  ParsedResult Make(const std::string& thing, int n, const std::string& verdict = "pass",
                    double model_ms = 10) {
    auto r = ParseResultMessage(testing::Topic(thing),
                                testing::ResultDoc(thing, n, verdict, model_ms).dump());
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return *r;
  }
  std::filesystem::path dir_;
  FakeClock clock_{1796551200000};  // 2026-12-06T10:00:00Z
  std::unique_ptr<ResultStore> store_;
};

TEST_F(StoreTest, StoresDropsDuplicatesAndCounts) {
  ASSERT_EQ(*store_->Add(Make("cam-1", 1, "pass", 10)), AddOutcome::kStored);
  ASSERT_EQ(*store_->Add(Make("cam-1", 2, "fail", 20)), AddOutcome::kStored);
  ASSERT_EQ(*store_->Add(Make("cam-1", 5, "error", 30)), AddOutcome::kStored);
  auto batch = store_->AddBatch({Make("cam-1", 1), Make("cam-2", 1)});
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ((*batch)[0], AddOutcome::kDuplicate);  // same id as before
  EXPECT_EQ((*batch)[1], AddOutcome::kStored);     // same image, another thing: another id
  ASSERT_TRUE(store_->CountRefused("cam-1", 3).ok());

  auto c = store_->Counters("cam-1");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->images, 3);
  EXPECT_EQ(c->pass, 1);
  EXPECT_EQ(c->fail, 1);
  EXPECT_EQ(c->error, 1);
  EXPECT_EQ(c->uncertain, 1);  // n = 5
  EXPECT_EQ(c->duplicates, 1);
  EXPECT_EQ(c->refused, 3);
  EXPECT_DOUBLE_EQ(c->mean_model_ms, 20);
  EXPECT_DOUBLE_EQ(c->p95_model_ms, 30);
  EXPECT_DOUBLE_EQ(c->mean_total_ms, 22);
  EXPECT_EQ(c->last_model_name, "tags");
  EXPECT_EQ(c->last_model_version, "1.2.0");
  EXPECT_EQ(c->last_seen, "2026-12-06T10:00:00.000Z");
  EXPECT_EQ(c->retained, 3);
  EXPECT_EQ(store_->Counters("nope").status().code(), StatusCode::kNotFound);
  auto all = store_->AllCounters();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[1].thing, "cam-2");
  auto recent = store_->Recent(ResultQuery{});
  ASSERT_EQ(recent->size(), 4u);                            // the duplicate added no row
  EXPECT_EQ(*store_->LastSequence(), recent->front().seq);  // (a refused insert may leave a gap)
}

TEST_F(StoreTest, QueriesAndTailCursor) {
  for (int i = 1; i <= 6; ++i) {
    clock_.Advance(1000);
    ASSERT_TRUE(store_->Add(Make(i % 2 ? "cam-1" : "cam-2", i, i % 3 ? "pass" : "fail")).ok());
  }
  ResultQuery q;
  auto recent = store_->Recent(q);
  ASSERT_TRUE(recent.ok());
  ASSERT_EQ(recent->size(), 6u);
  EXPECT_EQ(recent->front().seq, 6);  // newest first
  q.thing = "cam-1";
  recent = store_->Recent(q);
  ASSERT_EQ(recent->size(), 3u);
  for (const auto& r : *recent) EXPECT_EQ(r.thing, "cam-1");
  q = {};
  q.verdict = "fail";
  EXPECT_EQ(store_->Recent(q)->size(), 2u);  // 3 and 6
  q = {};
  q.since_ms = *ParseRfc3339Ms("2026-12-06T10:00:05Z");
  EXPECT_EQ(store_->Recent(q)->size(), 2u);  // received at :05 and :06
  q = {};
  q.after_seq = 4;
  auto tail = store_->After(q);
  ASSERT_EQ(tail->size(), 2u);
  EXPECT_EQ((*tail)[0].seq, 5);  // oldest first
  EXPECT_EQ((*tail)[1].seq, 6);
  q.limit = 0;
  EXPECT_EQ(store_->Recent(q).status().code(), StatusCode::kInvalidArgument);
  q = {};
  q.verdict = "ok";
  EXPECT_EQ(store_->Recent(q).status().code(), StatusCode::kInvalidArgument);
  Json j = StoredResultToJson((*tail)[1]);
  EXPECT_EQ(j["seq"], 6);
  EXPECT_EQ(j["schema"], "vqi.inspect.result/1");
  EXPECT_EQ(j["thing"], "cam-2");
}

TEST_F(StoreTest, RetentionKeepsTheMostRecentPerThingAndInTotal) {
  RetentionPolicy r;
  r.keep_per_thing = 5;
  r.max_total = 8;
  r.total_check_every = 1;
  Open(r);
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(store_->Add(Make("cam-1", i)).ok());
  ResultQuery q;
  q.thing = "cam-1";
  auto kept = store_->Recent(q);
  ASSERT_EQ(kept->size(), 5u);
  EXPECT_EQ(kept->front().id, "cam-1:" + testing::ImageId(11));
  EXPECT_EQ(kept->back().id, "cam-1:" + testing::ImageId(7));
  EXPECT_EQ(store_->Counters("cam-1")->images, 12);  // counters are not lowered
  EXPECT_EQ(store_->Counters("cam-1")->retained, 5);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store_->Add(Make("cam-2", i)).ok());
  EXPECT_EQ(store_->Recent(ResultQuery{})->size(), 8u);  // total cap: oldest overall went
  EXPECT_EQ(store_->Counters("cam-1")->retained, 3);
  EXPECT_EQ(store_->Counters("cam-2")->retained, 5);
  EXPECT_GT(*store_->LastSequence(), 16);  // sequences are not reused
}

TEST_F(StoreTest, AnotherConnectionSeesNewResults) {
  ResultStoreOptions o;
  o.create = false;
  auto reader = OpenSqliteResultStore(ResultsDbPath(dir_.string()), o);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ(*(*reader)->LastSequence(), 0);
  ASSERT_TRUE(store_->Add(Make("cam-1", 1)).ok());
  ResultQuery q;
  EXPECT_EQ((*reader)->After(q)->size(), 1u);
  o.create = false;
  EXPECT_EQ(OpenSqliteResultStore((dir_ / "missing" / "r.db").string(), o).status().code(),
            StatusCode::kNotFound);
  RetentionPolicy bad;
  bad.keep_per_thing = 0;
  o.retention = bad;
  EXPECT_EQ(OpenSqliteResultStore(ResultsDbPath(dir_.string()), o).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(Rfc3339, ParsesAndRefuses) {
  EXPECT_EQ(*ParseRfc3339Ms("1970-01-01T00:00:01Z"), 1000);
  EXPECT_EQ(*ParseRfc3339Ms("1970-01-01T00:00:01.5Z"), 1500);
  EXPECT_EQ(*ParseRfc3339Ms("1970-01-01T00:00:01.123Z"), 1123);
  EXPECT_FALSE(ParseRfc3339Ms("yesterday").ok());
  EXPECT_FALSE(ParseRfc3339Ms("1970-01-01T00:00:01").ok());
  EXPECT_FALSE(ParseRfc3339Ms("1970-01-01T00:00:01.Z").ok());
}

}  // namespace
}  // namespace vqi::results
