// UploadIngestor, through the results ingest's dispatch: uploads land in the dataset's unlabelled
// pool with their origin; the same image is stored once (origins appended, a resent message not
// twice); bad size/sha256/base64, non-images and unknown things are refused and counted;
// results in the same batch are stored as usual.
#include "vqi/results/upload_ingest.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "upload_test_util.h"
#include "vqi/dataset/store.h"
#include "vqi/sqlite/sqlite.h"

namespace vqi::results {
namespace {

using testing::BmpBytes;
using testing::ResultDoc;
using testing::Topic;
using testing::UploadDoc;
using testing::UploadTopicOf;

class UploadIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = (std::filesystem::temp_directory_path() /
             ("results_upload_test_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                .string();
    std::filesystem::remove_all(home_);
    ResultStoreOptions so;
    so.clock = &clock_;
    auto s = OpenSqliteResultStore(ResultsDbPath(home_), so);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    UploadIngestOptions uo;
    uo.home = home_;
    uo.dataset = "pool";
    auto u = UploadIngestor::Open(uo);
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    uploads_ = *u;
    IngestOptions io;
    io.clock = &clock_;
    io.known_thing = [](const std::string& t) { return t != "ghost"; };
    io.sub_handlers[std::string(transport::topics::kUploadSub)] = uploads_;
    ingestor_ = std::make_unique<ResultIngestor>(store_.get(), io);
  }
  void TearDown() override { std::filesystem::remove_all(home_); }

  std::vector<dataset::PoolImage> Pool(const std::string& thing = "") {
    auto ds = dataset::Store::Open(home_, "pool", false);
    EXPECT_TRUE(ds.ok()) << ds.status().ToString();
    auto pool = (*ds)->UnlabeledPool({thing, 0});
    EXPECT_TRUE(pool.ok()) << pool.status().ToString();
    return *pool;
  }

  std::string home_;
  FakeClock clock_{1796551200000};  // 2026-12-06T10:00:00Z
  std::unique_ptr<ResultStore> store_;
  std::shared_ptr<UploadIngestor> uploads_;
  std::unique_ptr<ResultIngestor> ingestor_;
};

TEST_F(UploadIngestTest, AnUploadEntersThePoolWithItsOrigin) {
  const std::string img = BmpBytes(16, 12, 1);
  ASSERT_TRUE(ingestor_
                  ->IngestBatch({{Topic("cam-1"), ResultDoc("cam-1", 1).dump()},
                                 {UploadTopicOf("cam-1"), UploadDoc("cam-1", img, "s-1").dump()}})
                  .ok());
  EXPECT_EQ(ingestor_->Stats().stored, 1u);
  EXPECT_EQ(ingestor_->Stats().sub["upload"].handled, 1u);
  auto pool = Pool();
  ASSERT_EQ(pool.size(), 1u);
  const dataset::PoolImage& p = pool[0];
  EXPECT_EQ(p.sample.image_id, Sha256Hex(img));
  EXPECT_EQ(p.sample.width, 16);
  EXPECT_EQ(p.sample.height, 12);
  EXPECT_EQ(p.format, "bmp");
  EXPECT_TRUE(p.sample.boxes.empty());
  ASSERT_EQ(p.origins.size(), 1u);
  const dataset::ImageOrigin& o = p.origins[0];
  EXPECT_EQ(o.thing, "cam-1");
  EXPECT_EQ(o.component, "vqi.inspect");
  EXPECT_EQ(o.model_name, "tags");
  EXPECT_EQ(o.model_version, "1.2.0");
  EXPECT_EQ(o.result_id, "cam-1:" + Sha256Hex(img));
  EXPECT_DOUBLE_EQ(o.best_score, 0.45);
  EXPECT_EQ(o.received, "2026-12-06T10:00:00.000Z");
  EXPECT_EQ(o.message_id, "s-1");
  // The blob holds exactly the uploaded bytes.
  std::string blob;
  {
    std::FILE* f = std::fopen(p.sample.path.c_str(), "rb");
    ASSERT_NE(f, nullptr) << p.sample.path;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) blob.append(buf, n);
    std::fclose(f);
  }
  EXPECT_EQ(blob, img);
}

TEST_F(UploadIngestTest, TheSameImageIsStoredOnceWithItsOriginsAppended) {
  const std::string img = BmpBytes(16, 12, 2);
  const std::string doc = UploadDoc("cam-1", img, "s-1").dump();
  ASSERT_TRUE(ingestor_
                  ->IngestBatch({{UploadTopicOf("cam-1"), doc},
                                 {UploadTopicOf("cam-1"), doc}})  // resent in the same batch
                  .ok());
  ASSERT_TRUE(ingestor_->Ingest(UploadTopicOf("cam-1"), doc).ok());  // and later
  clock_.Advance(1000);
  ASSERT_TRUE(
      ingestor_
          ->IngestBatch({{UploadTopicOf("cam-1"), UploadDoc("cam-1", img, "s-2", "1.3.0").dump()},
                         {UploadTopicOf("cam-2"), UploadDoc("cam-2", img, "s-1").dump()}})
          .ok());
  IngestStats s = ingestor_->Stats();
  EXPECT_EQ(s.sub["upload"].handled, 3u);
  EXPECT_EQ(s.sub["upload"].duplicates, 2u);
  UploadIngestStats u = uploads_->Stats();
  EXPECT_EQ(u.images_added, 1u);
  EXPECT_EQ(u.origins_added, 3u);
  EXPECT_EQ(u.duplicates, 2u);
  auto pool = Pool();
  ASSERT_EQ(pool.size(), 1u);
  ASSERT_EQ(pool[0].origins.size(), 3u);
  EXPECT_EQ(pool[0].origins[0].model_version, "1.2.0");
  EXPECT_EQ(pool[0].origins[1].model_version, "1.3.0");
  EXPECT_EQ(pool[0].origins[1].received, "2026-12-06T10:00:01.000Z");
  EXPECT_EQ(pool[0].origins[2].thing, "cam-2");
  EXPECT_EQ(Pool("cam-2").size(), 1u);
  EXPECT_EQ(Pool("cam-3").size(), 0u);
}

TEST_F(UploadIngestTest, BadUploadsAreRefusedCountedAndNothingIsStored) {
  const std::string img = BmpBytes(16, 12, 3);
  Json bad_sha = UploadDoc("cam-1", img, "s-1");
  bad_sha["sha256"] = Sha256Hex("other");
  Json bad_size = UploadDoc("cam-1", img, "s-2");
  bad_size["size"] = 3;
  Json bad_b64 = UploadDoc("cam-1", img, "s-3");
  bad_b64["dataBase64"] = "%%%";
  const std::string text = "just some text, not an image";
  Json not_image = UploadDoc("cam-1", text, "s-4");
  Json truncated = UploadDoc("cam-1", img.substr(0, img.size() - 20), "s-5");
  Json other_thing = UploadDoc("cam-2", img, "s-6");
  std::string bad_name = UploadDoc("cam-1", img, "s-7").dump();  // a raw non-UTF-8 byte
  bad_name.replace(bad_name.find("frame-"), 1, "\xff");
  ASSERT_TRUE(ingestor_
                  ->IngestBatch({
                      {UploadTopicOf("cam-1"), bad_sha.dump()},
                      {UploadTopicOf("cam-1"), bad_size.dump()},
                      {UploadTopicOf("cam-1"), bad_b64.dump()},
                      {UploadTopicOf("cam-1"), not_image.dump()},
                      {UploadTopicOf("cam-1"), truncated.dump()},
                      {UploadTopicOf("cam-1"), other_thing.dump()},  // payload names cam-2
                      {UploadTopicOf("cam-1"), bad_name},
                      {UploadTopicOf("ghost"), UploadDoc("ghost", img, "s-8").dump()},
                      {UploadTopicOf("cam-1"), "{not json"},
                  })
                  .ok());
  IngestStats s = ingestor_->Stats();
  EXPECT_EQ(s.unknown_thing, 1u);
  EXPECT_EQ(s.sub["upload"].refused, 8u) << s.last_error;
  EXPECT_EQ(s.sub["upload"].handled, 0u);
  EXPECT_EQ(uploads_->Stats().refused, 8u);
  EXPECT_EQ(store_->Counters("cam-1")->refused, 8);
  EXPECT_TRUE(Pool().empty());
  // A good one after the bad ones is stored.
  ASSERT_TRUE(
      ingestor_->Ingest(UploadTopicOf("cam-1"), UploadDoc("cam-1", img, "s-9").dump()).ok());
  EXPECT_EQ(Pool().size(), 1u);
}

size_t PendingFiles(const std::string& dir) {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().extension() == ".upload") ++n;
  return n;
}

// Another process holding the dataset's write lock (a long `vqi dataset import`) delays the
// writer by about a second at most: the uploads are kept in <home>/results/uploads-pending
// (counted `deferred`, nothing lost), the results beside them are stored; the next batch does not
// wait on the lock again. The pending uploads survive a restart, and once the lock is gone they
// are in the pool exactly once, with their origins, and the folder is empty.
TEST_F(UploadIngestTest, ALockedDatasetKeepsUploadsPendingUntilTheyAreStored) {
  auto other = sqlite::Db::Open(home_ + "/datasets/pool/dataset.db");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  ASSERT_TRUE(other->Exec("BEGIN IMMEDIATE").ok());
  const std::string img1 = BmpBytes(16, 12, 4), img2 = BmpBytes(16, 12, 5);
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(ingestor_
                  ->IngestBatch({{UploadTopicOf("cam-1"), UploadDoc("cam-1", img1, "s-1").dump()},
                                 {Topic("cam-1"), ResultDoc("cam-1", 1).dump()}})
                  .ok());
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(waited, 5.0);  // 3 attempts x (250 ms busy wait + backoff), not 3 x 10 s
  // The next batch goes to pending without waiting on the lock.
  t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(ingestor_
                  ->IngestBatch({{UploadTopicOf("cam-2"), UploadDoc("cam-2", img2, "s-2").dump()},
                                 {Topic("cam-2"), ResultDoc("cam-2", 2).dump()}})
                  .ok());
  waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(waited, 0.2);
  EXPECT_EQ(ingestor_->Stats().stored, 2u);
  EXPECT_EQ(ingestor_->Stats().sub["upload"].deferred, 2u);
  EXPECT_EQ(ingestor_->Stats().sub["upload"].errors, 0u);
  EXPECT_EQ(uploads_->Stats().deferred, 2u);
  EXPECT_EQ(uploads_->Stats().errors, 0u);
  EXPECT_EQ(uploads_->Stats().pending_files, 2);
  const std::string pending = home_ + "/results/uploads-pending";
  EXPECT_EQ(uploads_->pending_dir(), pending);
  EXPECT_EQ(PendingFiles(pending), 2u);

  // Restart (the lock still held): the new ingestor finds both, a retry keeps them.
  ingestor_.reset();
  uploads_.reset();
  UploadIngestOptions uo;
  uo.home = home_;
  uo.dataset = "pool";
  auto u = UploadIngestor::Open(uo);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  uploads_ = *u;
  EXPECT_EQ(uploads_->Stats().pending_files, 2);
  uploads_->Tick();
  EXPECT_EQ(uploads_->Stats().pending_files, 2);
  EXPECT_EQ(PendingFiles(pending), 2u);

  ASSERT_TRUE(other->Exec("COMMIT").ok());
  // Retried on the writer's Tick (every 2 s; at most every 2 s after a failure).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (uploads_->Stats().pending_files > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    uploads_->Tick();
  }
  EXPECT_EQ(uploads_->Stats().pending_files, 0);
  EXPECT_EQ(uploads_->Stats().pending_stored, 2u);
  EXPECT_EQ(uploads_->Stats().images_added, 2u);
  EXPECT_EQ(PendingFiles(pending), 0u);
  // The same messages resent by the spool add nothing: exactly once.
  IngestOptions io;
  io.clock = &clock_;
  io.sub_handlers[std::string(transport::topics::kUploadSub)] = uploads_;
  ingestor_ = std::make_unique<ResultIngestor>(store_.get(), io);
  ASSERT_TRUE(
      ingestor_->Ingest(UploadTopicOf("cam-1"), UploadDoc("cam-1", img1, "s-1").dump()).ok());
  EXPECT_EQ(ingestor_->Stats().sub["upload"].duplicates, 1u);
  auto pool = Pool();
  ASSERT_EQ(pool.size(), 2u);
  std::map<std::string, std::string> by_image;
  for (const auto& p : pool) {
    ASSERT_EQ(p.origins.size(), 1u) << p.sample.image_id;
    by_image[p.sample.image_id] =
        p.origins[0].thing + "/" + p.origins[0].message_id + "/" + p.origins[0].received;
  }
  EXPECT_EQ(by_image[Sha256Hex(img1)], "cam-1/s-1/2026-12-06T10:00:00.000Z");
  EXPECT_EQ(by_image[Sha256Hex(img2)], "cam-2/s-2/2026-12-06T10:00:00.000Z");
}

// Pending is bounded: beyond max_pending_files the upload is an error (counted, logged), as it
// was before pending existed.
TEST_F(UploadIngestTest, ThePendingFolderIsBounded) {
  UploadIngestOptions uo;
  uo.home = home_;
  uo.dataset = "pool";
  uo.max_pending_files = 1;
  auto u = UploadIngestor::Open(uo);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  auto other = sqlite::Db::Open(home_ + "/datasets/pool/dataset.db");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  ASSERT_TRUE(other->Exec("BEGIN IMMEDIATE").ok());
  std::vector<SubKindMessage> batch;
  for (int i = 0; i < 2; ++i) {
    SubKindMessage m;
    m.topic = UploadTopicOf("cam-1");
    m.thing = "cam-1";
    m.component = "vqi.inspect";
    m.sub = "upload";
    m.payload = UploadDoc("cam-1", BmpBytes(16, 12, 10 + i), "p-" + std::to_string(i)).dump();
    m.received_ms = 1796551200000;
    batch.push_back(m);
  }
  auto out = (*u)->HandleBatch(batch);
  ASSERT_EQ(out.size(), 2u);
  ASSERT_TRUE(out[0].ok()) << out[0].status().ToString();
  EXPECT_EQ(*out[0], SubKindOutcome::kDeferred);
  ASSERT_FALSE(out[1].ok());
  EXPECT_NE(out[1].status().message().find("pending uploads folder"), std::string::npos)
      << out[1].status().ToString();
  EXPECT_EQ((*u)->Stats().deferred, 1u);
  EXPECT_EQ((*u)->Stats().errors, 1u);
  ASSERT_TRUE(other->Exec("COMMIT").ok());
}

// The pool is bounded: a new image beyond max_pool_images is refused and counted; an image
// already there still gets its origin; labelling empties the pool (seen at the next count).
TEST_F(UploadIngestTest, AFullPoolRefusesNewImagesButRecordsOriginsOfKnownOnes) {
  UploadIngestOptions uo;
  uo.home = home_;
  uo.dataset = "small";
  uo.max_pool_images = 2;
  auto small = UploadIngestor::Open(uo);
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  IngestOptions io;
  io.clock = &clock_;
  io.sub_handlers["upload"] = *small;
  ResultIngestor in(store_.get(), io);
  const std::string a = BmpBytes(8, 8, 1), b = BmpBytes(8, 8, 2), c = BmpBytes(8, 8, 3);
  ASSERT_TRUE(in.IngestBatch({{UploadTopicOf("cam-1"), UploadDoc("cam-1", a, "m-1").dump()},
                              {UploadTopicOf("cam-1"), UploadDoc("cam-1", b, "m-2").dump()},
                              {UploadTopicOf("cam-1"), UploadDoc("cam-1", c, "m-3").dump()},
                              {UploadTopicOf("cam-2"), UploadDoc("cam-2", a, "m-1").dump()}})
                  .ok());
  IngestStats s = in.Stats();
  EXPECT_EQ(s.sub["upload"].handled, 3u);  // a, b, and cam-2's origin of a
  EXPECT_EQ(s.sub["upload"].refused, 1u);  // c
  EXPECT_NE(s.last_error.find("--uploads-max-pool"), std::string::npos) << s.last_error;
  EXPECT_EQ((*small)->Stats().images_added, 2u);
  EXPECT_EQ((*small)->Stats().refused, 1u);
  {
    auto ds = dataset::Store::Open(home_, "small", false);
    ASSERT_TRUE(ds.ok());
    EXPECT_EQ(*(*ds)->UnlabeledPoolSize(""), 2);
    EXPECT_FALSE((*ds)->HasImage(Sha256Hex(c)));
    dataset::LabelEvent e;
    e.image_id = Sha256Hex(a);
    e.event_time = 1;
    e.job = "human";
    ASSERT_TRUE((*ds)->AppendLabel(e).ok());  // a leaves the pool
  }
  auto again = UploadIngestor::Open(uo);  // counts the pool afresh
  ASSERT_TRUE(again.ok());
  io.sub_handlers["upload"] = *again;
  ResultIngestor in2(store_.get(), io);
  ASSERT_TRUE(in2.Ingest(UploadTopicOf("cam-1"), UploadDoc("cam-1", c, "m-4").dump()).ok());
  EXPECT_EQ(in2.Stats().sub["upload"].handled, 1u);
}

// One device's share of the pool is bounded too: a noisy camera cannot starve the others.
TEST_F(UploadIngestTest, OneDeviceCannotTakeThePoolFromTheOthers) {
  UploadIngestOptions uo;
  uo.home = home_;
  uo.dataset = "fair";
  uo.max_pool_images_per_thing = 2;
  auto fair = UploadIngestor::Open(uo);
  ASSERT_TRUE(fair.ok()) << fair.status().ToString();
  IngestOptions io;
  io.clock = &clock_;
  io.sub_handlers["upload"] = *fair;
  ResultIngestor in(store_.get(), io);
  std::vector<IngestMessage> batch;
  for (int i = 0; i < 4; ++i)
    batch.push_back({UploadTopicOf("cam-1"),
                     UploadDoc("cam-1", BmpBytes(8, 8, 10 + i), "n-" + std::to_string(i)).dump()});
  batch.push_back({UploadTopicOf("cam-2"), UploadDoc("cam-2", BmpBytes(8, 8, 20), "n-0").dump()});
  ASSERT_TRUE(in.IngestBatch(batch).ok());
  EXPECT_EQ(in.Stats().sub["upload"].handled, 3u);
  EXPECT_EQ(in.Stats().sub["upload"].refused, 2u);
  EXPECT_NE(in.Stats().last_error.find("--uploads-max-per-thing"), std::string::npos)
      << in.Stats().last_error;
  // The next batch still knows cam-1's share.
  ASSERT_TRUE(
      in.Ingest(UploadTopicOf("cam-1"), UploadDoc("cam-1", BmpBytes(8, 8, 30), "n-9").dump()).ok());
  EXPECT_EQ(in.Stats().sub["upload"].refused, 3u);
  auto ds = dataset::Store::Open(home_, "fair", false);
  ASSERT_TRUE(ds.ok());
  EXPECT_EQ(*(*ds)->UnlabeledPoolSize("cam-1"), 2);
  EXPECT_EQ(*(*ds)->UnlabeledPoolSize("cam-2"), 1);
}

TEST_F(UploadIngestTest, OptionsAreChecked) {
  UploadIngestOptions o;
  EXPECT_EQ(UploadIngestor::Open(o).status().code(), StatusCode::kInvalidArgument);  // no home
  o.home = home_;
  o.dataset = "../x";
  EXPECT_EQ(UploadIngestor::Open(o).status().code(), StatusCode::kInvalidArgument);
  o.dataset = "ok";
  o.max_file_bytes = kDefaultMaxUploadBytes + 1;
  EXPECT_EQ(UploadIngestor::Open(o).status().code(), StatusCode::kInvalidArgument);
  o.max_file_bytes = kDefaultMaxUploadBytes;
  o.max_pool_images = 0;
  EXPECT_EQ(UploadIngestor::Open(o).status().code(), StatusCode::kInvalidArgument);
  o.max_pool_images = 10;
  o.max_pool_images_per_thing = 0;
  EXPECT_EQ(UploadIngestor::Open(o).status().code(), StatusCode::kInvalidArgument);
  o.max_pool_images_per_thing = 10;
  o.max_pending_files = 0;
  EXPECT_EQ(UploadIngestor::Open(o).status().code(), StatusCode::kInvalidArgument);
  o.max_pending_files = 10;
  o.max_pending_bytes = 1000;
  EXPECT_EQ(UploadIngestor::Open(o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vqi::results
