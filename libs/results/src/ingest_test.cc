// ResultIngestor: every refusal counted by reason and in the thing's counters; the flood
// limit; unknown things; a batch with good and bad messages stores the good ones.
#include "vqi/results/ingest.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "test_util.h"

namespace vqi::results {
namespace {

using testing::ResultDoc;
using testing::Topic;

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("results_ingest_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    ResultStoreOptions o;
    o.clock = &clock_;
    auto s = OpenSqliteResultStore(ResultsDbPath(dir_.string()), o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  FakeClock clock_{1796551200000};
  std::unique_ptr<ResultStore> store_;
};

TEST_F(IngestTest, CountsEachRefusalAndStoresTheRest) {
  IngestOptions o;
  o.clock = &clock_;
  o.max_result_bytes = 4096;
  ResultIngestor in(store_.get(), o);
  Json big = ResultDoc("cam-1", 9);
  big["detections"] = std::vector<int>(5000, 1);
  std::vector<IngestMessage> batch = {
      {Topic("cam-1"), ResultDoc("cam-1", 1).dump()},
      {Topic("cam-1"), "garbage {"},
      {Topic("cam-1"), big.dump()},
      {Topic("cam-1"), ResultDoc("cam-2", 2).dump()},          // another thing's result
      {Topic("cam-1"), ResultDoc("cam-1", 1).dump()},          // duplicate
      {"vqi/v1/results/cam-1", ResultDoc("cam-1", 3).dump()},  // bad topic, no thing
      {Topic("cam-1"), ResultDoc("cam-1", 4, "fail").dump()},
  };
  ASSERT_TRUE(in.IngestBatch(batch).ok());
  IngestStats s = in.Stats();
  EXPECT_EQ(s.stored, 2u);
  EXPECT_EQ(s.duplicates, 1u);
  EXPECT_EQ(s.garbage, 2u);
  EXPECT_EQ(s.oversized, 1u);
  EXPECT_EQ(s.wrong_thing, 1u);
  EXPECT_FALSE(s.last_error.empty());
  auto c = store_->Counters("cam-1");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->images, 2);
  EXPECT_EQ(c->fail, 1);
  EXPECT_EQ(c->duplicates, 1);
  EXPECT_EQ(c->refused, 3);  // garbage, oversized, wrong thing (the bad topic names no thing)
  EXPECT_EQ(store_->Counters("cam-2").status().code(), StatusCode::kNotFound);
}

TEST_F(IngestTest, FloodFromOneThingIsLimitedOthersPass) {
  IngestOptions o;
  o.clock = &clock_;
  o.rate_per_second = 10;
  o.burst = 20;
  ResultIngestor in(store_.get(), o);
  std::vector<IngestMessage> flood;
  for (int i = 0; i < 50; ++i) flood.push_back({Topic("noisy"), ResultDoc("noisy", i).dump()});
  flood.push_back({Topic("quiet"), ResultDoc("quiet", 1).dump()});
  ASSERT_TRUE(in.IngestBatch(flood).ok());
  EXPECT_EQ(in.Stats().stored, 21u);  // the burst + quiet's one
  EXPECT_EQ(in.Stats().rate_limited, 30u);
  EXPECT_EQ(store_->Counters("noisy")->refused, 30);
  clock_.Advance(1000);  // 10 tokens back
  std::vector<IngestMessage> more;
  for (int i = 100; i < 115; ++i) more.push_back({Topic("noisy"), ResultDoc("noisy", i).dump()});
  ASSERT_TRUE(in.IngestBatch(more).ok());
  EXPECT_EQ(store_->Counters("noisy")->images, 30);
  EXPECT_EQ(in.Stats().rate_limited, 35u);
}

TEST_F(IngestTest, UnknownThingIsRefusedWithoutACountersRow) {
  IngestOptions o;
  o.clock = &clock_;
  o.known_thing = [](const std::string& t) { return t == "cam-1"; };
  ResultIngestor in(store_.get(), o);
  ASSERT_TRUE(in.Ingest(Topic("ghost"), ResultDoc("ghost", 1).dump()).ok());
  ASSERT_TRUE(in.Ingest(Topic("cam-1"), ResultDoc("cam-1", 1).dump()).ok());
  EXPECT_EQ(in.Stats().unknown_thing, 1u);
  EXPECT_EQ(in.Stats().stored, 1u);
  EXPECT_EQ(store_->Counters("ghost").status().code(), StatusCode::kNotFound);
}

// Sub-kind topics go to their handler (after the known-thing and rate checks); one without a
// handler is refused and counted; a handler's refusals and errors are counted apart.
TEST_F(IngestTest, SubKindsAreDispatchedToTheirHandlerOrRefused) {
  std::vector<SubKindMessage> seen;
  IngestOptions o;
  o.clock = &clock_;
  o.rate_per_second = 1;
  o.burst = 5;
  o.known_thing = [](const std::string& t) { return t != "ghost"; };
  o.sub_handlers["upload"] =
      MakeSubKindHandler([&](const SubKindMessage& m) -> Result<SubKindOutcome> {
        seen.push_back(m);
        if (m.payload == "bad") return InvalidArgument("sha256: mismatch");
        if (m.payload == "broken") return Unavailable("dataset busy");
        if (m.payload == "again") return SubKindOutcome::kDuplicate;
        return SubKindOutcome::kHandled;
      });
  ResultIngestor in(store_.get(), o);
  const std::string up = transport::topics::UploadTopic("cam-1", "vqi.inspect");
  std::vector<IngestMessage> batch = {
      {up, "fine"},
      {Topic("cam-1"), ResultDoc("cam-1", 1).dump()},
      {transport::topics::ShadowTopic("cam-1", "vqi.inspect"), "{}"},    // no handler
      {transport::topics::UploadTopic("ghost", "vqi.inspect"), "fine"},  // unknown thing
      {up, "bad"},
      {up, "broken"},
      {up, "again"},
      {up, "late"},                                      // over the burst of 5 tokens
      {"vqi/v1/results/cam-1/vqi.inspect/other", "{}"},  // not a vqi topic at all
  };
  ASSERT_TRUE(in.IngestBatch(batch).ok());
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].thing, "cam-1");
  EXPECT_EQ(seen[0].component, "vqi.inspect");
  EXPECT_EQ(seen[0].sub, "upload");
  EXPECT_EQ(seen[0].topic, up);
  EXPECT_EQ(seen[0].payload, "fine");
  EXPECT_EQ(seen[0].received_ms, clock_.NowMs());
  IngestStats s = in.Stats();
  EXPECT_EQ(s.stored, 1u);
  EXPECT_EQ(s.unhandled_sub, 1u);
  EXPECT_EQ(s.unknown_thing, 1u);
  EXPECT_EQ(s.rate_limited, 1u);
  EXPECT_EQ(s.garbage, 1u);
  EXPECT_EQ(s.sub["upload"].handled, 1u);
  EXPECT_EQ(s.sub["upload"].refused, 1u);
  EXPECT_EQ(s.sub["upload"].errors, 1u);
  EXPECT_EQ(s.sub["upload"].duplicates, 1u);
  EXPECT_EQ(s.sub.count("shadow"), 0u);
  // The thing's refused: shadow without handler, the handler's refusal, rate-limited (the
  // garbage topic names no thing).
  EXPECT_EQ(store_->Counters("cam-1")->refused, 3);
  EXPECT_EQ(store_->Counters("ghost").status().code(), StatusCode::kNotFound);
}

// Results are de-duplicated by `id` alone (docs/design/results.md "De-duplication"): the spool's
// resend (same vqiMessageId) and a re-inspection of the same image under a new vqiMessageId are
// both dropped; a new image is stored whatever its vqiMessageId.
TEST_F(IngestTest, ResultsAreDeduplicatedByIdWhateverTheirVqiMessageId) {
  IngestOptions o;
  o.clock = &clock_;
  ResultIngestor in(store_.get(), o);
  auto with_msg = [](Json j, const std::string& msg) {
    j["vqiMessageId"] = msg;
    return j.dump();
  };
  ASSERT_TRUE(in.IngestBatch({{Topic("cam-1"), with_msg(ResultDoc("cam-1", 1), "a-1")},
                              {Topic("cam-1"), with_msg(ResultDoc("cam-1", 1), "a-1")},
                              {Topic("cam-1"), with_msg(ResultDoc("cam-1", 1), "b-7")},
                              {Topic("cam-1"), with_msg(ResultDoc("cam-1", 2), "a-1")},
                              {Topic("cam-1"), ResultDoc("cam-1", 3).dump()}})
                  .ok());
  EXPECT_EQ(in.Stats().stored, 3u);
  EXPECT_EQ(in.Stats().duplicates, 2u);
  EXPECT_EQ(store_->Counters("cam-1")->duplicates, 2);
}

// A plain result on a sub-kind topic is not a result (ParseResultMessage refuses it).
TEST_F(IngestTest, AResultDocumentOnAnUploadTopicIsNotStoredAsAResult) {
  IngestOptions o;
  o.clock = &clock_;
  ResultIngestor in(store_.get(), o);
  ASSERT_TRUE(in.Ingest(transport::topics::UploadTopic("cam-1", "vqi.inspect"),
                        ResultDoc("cam-1", 1).dump())
                  .ok());
  EXPECT_EQ(in.Stats().stored, 0u);
  EXPECT_EQ(in.Stats().unhandled_sub, 1u);
  EXPECT_FALSE(ParseResultMessage(transport::topics::UploadTopic("cam-1", "vqi.inspect"),
                                  ResultDoc("cam-1", 1).dump())
                   .ok());
}

}  // namespace
}  // namespace vqi::results
