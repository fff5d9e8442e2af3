#include "vqi/blob/blob_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "vqi/base/file.h"
#include "vqi/base/hash.h"

namespace vqi::blob {
namespace {
namespace fs = std::filesystem;

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("vqi_blob_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::unique_ptr<BlobStore> OpenStore(BlobStoreOptions o = {}) {
    auto s = BlobStore::Open((root_ / "blobs").string(), o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }
  // Every file below the store (names), to assert that nothing changed.
  std::set<std::string> Files() const {
    std::set<std::string> out;
    for (auto& e : fs::recursive_directory_iterator(root_ / "blobs"))
      if (e.is_regular_file()) out.insert(e.path().lexically_relative(root_).string());
    return out;
  }
  std::string WriteInput(const std::string& name, const std::string& bytes) {
    const std::string p = (root_ / name).string();
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

  fs::path root_;
};

TEST_F(BlobStoreTest, PutGetRoundTripIsContentAddressedAndDeduplicated) {
  auto store = OpenStore();
  auto a = store->Put("hello", ".txt");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->digest, Sha256Hex("hello"));
  EXPECT_TRUE(a->created);
  EXPECT_EQ(a->size, 5);
  EXPECT_EQ(*store->Path(a->digest, ".txt"),
            (root_ / "blobs" / a->digest.substr(0, 2) / (a->digest + ".txt")).string());
  auto again = store->Put("hello", ".txt");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(*store->Get(a->digest, ".txt"), "hello");
  EXPECT_TRUE(*store->Exists(a->digest, ".txt"));
  EXPECT_FALSE(*store->Exists(a->digest, ".png"));
  EXPECT_EQ(Files().size(), 1u);
  // The empty blob is a blob too.
  auto empty = store->Put("");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*store->Get(empty->digest), "");
}

TEST_F(BlobStoreTest, PutFileStreamsAndMatchesPut) {
  auto store = OpenStore();
  std::string big(300000, 'x');
  for (size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>(i);
  auto r = store->PutFile(WriteInput("in.bin", big), ".bin");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->digest, Sha256Hex(big));
  EXPECT_EQ(r->size, static_cast<int64_t>(big.size()));
  EXPECT_EQ(*store->Get(r->digest, ".bin"), big);
  auto dup = store->PutFile(WriteInput("in2.bin", big), ".bin");
  ASSERT_TRUE(dup.ok());
  EXPECT_FALSE(dup->created);
  EXPECT_EQ(Files().size(), 1u);  // no temporary file left
}

TEST_F(BlobStoreTest, SizeLimitRefusesBeforeWriting) {
  BlobStoreOptions o;
  o.max_blob_bytes = 10;
  auto store = OpenStore(o);
  ASSERT_TRUE(store->Put("0123456789").ok());  // exactly the limit
  const auto before = Files();
  auto r = store->Put("0123456789A");
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
  EXPECT_NE(r.status().message().find("at most 10 bytes"), std::string::npos);
  auto f = store->PutFile(WriteInput("big", std::string(11, 'b')));
  EXPECT_EQ(f.status().code(), StatusCode::kResourceExhausted) << f.status().ToString();
  EXPECT_NE(f.status().message().find("big"), std::string::npos);
  EXPECT_EQ(Files(), before);
}

TEST_F(BlobStoreTest, HostileDigestsAndExtensionsCannotEscape) {
  auto store = OpenStore();
  for (const std::string& d : {std::string("../../etc/passwd"), std::string(64, 'G'),
                               std::string(63, 'a'), std::string(64, 'A'), std::string("")}) {
    EXPECT_EQ(store->Get(d).status().code(), StatusCode::kInvalidArgument) << d;
    EXPECT_EQ(store->Exists(d).status().code(), StatusCode::kInvalidArgument) << d;
    EXPECT_EQ(store->Remove(d).status().code(), StatusCode::kInvalidArgument) << d;
  }
  for (const char* ext : {"/../x", "jpg", ".", ".a/b", ".toolongextension"}) {
    EXPECT_EQ(store->Put("x", ext).status().code(), StatusCode::kInvalidArgument) << ext;
    EXPECT_EQ(store->PutFile(WriteInput("x", "x"), ext).status().code(),
              StatusCode::kInvalidArgument)
        << ext;
  }
  EXPECT_TRUE(Files().empty());
}

TEST_F(BlobStoreTest, PutFileRefusesDirectoriesAndMissingFiles) {
  auto store = OpenStore();
  EXPECT_EQ(store->PutFile(root_.string()).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->PutFile((root_ / "nope").string()).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(Files().empty());
}

TEST_F(BlobStoreTest, VerifyReportsCorruptBlobsAndGetRefusesThem) {
  auto store = OpenStore();
  auto good = store->Put("good");
  auto bad = store->Put("bad!", ".jpg");
  const std::string bad_path = *store->Path(bad->digest, ".jpg");
  std::ofstream(bad_path, std::ios::binary) << "BAD!";  // same size, other bytes
  auto report = store->Verify();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->blobs, 2);
  ASSERT_EQ(report->corrupt.size(), 1u);
  EXPECT_NE(report->corrupt[0].find(bad_path), std::string::npos);
  EXPECT_FALSE(report->ok());
  auto got = store->Get(bad->digest, ".jpg");
  EXPECT_EQ(got.status().code(), StatusCode::kDataLoss) << got.status().ToString();
  // Putting the right bytes again repairs it.
  auto repaired = store->Put("bad!", ".jpg");
  ASSERT_TRUE(repaired.ok());
  EXPECT_TRUE(repaired->created);
  EXPECT_EQ(*store->Get(bad->digest, ".jpg"), "bad!");
  EXPECT_TRUE(store->Verify()->ok());
}

TEST_F(BlobStoreTest, GarbageCollectionKeepsReferencedAndOursOnly) {
  auto store = OpenStore();
  auto keep = store->Put("keep", ".png");
  auto drop = store->Put("drop", ".png");
  WriteInput("blobs/README", "not a blob");  // a file that is not ours is never deleted
  // An abandoned temporary file (old) and a fresh one (a put in progress elsewhere).
  const std::string old_tmp = WriteInput("blobs/tmp-old", "partial");
  fs::rename(old_tmp, root_ / "blobs" / ".tmp-1-1");
  fs::last_write_time(root_ / "blobs" / ".tmp-1-1",
                      fs::file_time_type::clock::now() - std::chrono::hours(2));
  const std::string fresh = WriteInput("blobs/fresh", "partial");
  fs::rename(fresh, root_ / "blobs" / ".tmp-1-2");
  auto gc = store->CollectGarbage({keep->digest});
  ASSERT_TRUE(gc.ok()) << gc.status().ToString();
  EXPECT_EQ(gc->kept, 1);
  EXPECT_EQ(gc->removed, 1);
  EXPECT_EQ(gc->bytes_freed, 4);
  EXPECT_EQ(gc->temp_removed, 1);
  EXPECT_TRUE(*store->Exists(keep->digest, ".png"));
  EXPECT_FALSE(*store->Exists(drop->digest, ".png"));
  EXPECT_TRUE(fs::exists(root_ / "blobs" / "README"));
  EXPECT_TRUE(fs::exists(root_ / "blobs" / ".tmp-1-2"));
  EXPECT_FALSE(fs::exists(root_ / "blobs" / ".tmp-1-1"));
}

TEST_F(BlobStoreTest, RemoveDeletesEveryExtensionOfADigest) {
  auto store = OpenStore();
  auto a = store->Put("same", ".jpg");
  ASSERT_TRUE(store->Put("same", ".jpeg").ok());
  EXPECT_TRUE(*store->Remove(a->digest));
  EXPECT_FALSE(*store->Remove(a->digest));
  EXPECT_TRUE(Files().empty());
}

TEST_F(BlobStoreTest, BatchDurabilityNeedsSync) {
  BlobStoreOptions o;
  o.durability = Durability::kBatch;
  auto store = OpenStore(o);
  ASSERT_TRUE(store->Put("a").ok());
  ASSERT_TRUE(store->Put("b").ok());
  EXPECT_TRUE(store->Sync().ok());
  EXPECT_TRUE(store->Sync().ok());  // nothing pending
  EXPECT_EQ(*store->Get(Sha256Hex("a")), "a");
}

TEST_F(BlobStoreTest, UnreadableInputIsPermissionDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads any file";
  auto store = OpenStore();
  const std::string p = WriteInput("secret", "s");
  ::chmod(p.c_str(), 0);
  EXPECT_EQ(store->PutFile(p).status().code(), StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace vqi::blob
