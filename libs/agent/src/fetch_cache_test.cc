// BlobCache: lookups re-hash, damaged blobs are dropped, LRU eviction spares pinned blobs.
#include "vqi/agent/fetch_cache.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <filesystem>

#include "gtest/gtest.h"
#include "vqi/base/file.h"
#include "vqi/base/hash.h"

namespace vqi::agent {
namespace {

namespace fs = std::filesystem;

class BlobCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (fs::temp_directory_path() / "vqi-fetch-cache-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    root_ = t;
  }
  void TearDown() override { fs::remove_all(root_); }

  // Puts `data` in the cache as a committed blob with mtime `age_s` seconds in the past.
  std::string Put(BlobCache& c, const std::string& data, int age_s) {
    const std::string d = Sha256Hex(data);
    EXPECT_TRUE(WriteFileAtomic(c.PartPath(d), data).ok());
    EXPECT_TRUE(c.Commit(d).ok());
    struct timespec ts[2];
    ::clock_gettime(CLOCK_REALTIME, &ts[0]);
    ts[0].tv_sec -= age_s;
    ts[1] = ts[0];
    ::utimensat(AT_FDCWD, c.BlobPath(d).c_str(), ts, 0);
    return d;
  }

  std::string root_;
};

TEST_F(BlobCacheTest, LookupRehashesAndDropsDamagedBlobs) {
  auto c = BlobCache::Open(root_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const std::string d = Put(*c, "hello", 0);
  bool corrupt = true;
  auto hit = c->Lookup(d, 5, &corrupt);
  ASSERT_TRUE(hit.ok());
  ASSERT_TRUE(hit->has_value());
  EXPECT_FALSE(corrupt);
  auto wrong_size = c->Lookup(d, 6, &corrupt);  // the manifest says another size
  ASSERT_TRUE(wrong_size.ok());
  EXPECT_FALSE(wrong_size->has_value());
  EXPECT_TRUE(corrupt);
  EXPECT_FALSE(FileExists(c->BlobPath(d)));
  const std::string e = Put(*c, "world", 0);
  ASSERT_TRUE(WriteFileAtomic(c->BlobPath(e), "wOrld").ok());
  auto damaged = c->Lookup(e, 5, &corrupt);
  ASSERT_TRUE(damaged.ok());
  EXPECT_FALSE(damaged->has_value());
  EXPECT_TRUE(corrupt);
  auto missing = c->Lookup(Sha256Hex("nope"), 4, &corrupt);
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  EXPECT_FALSE(corrupt);
}

TEST_F(BlobCacheTest, TrimEvictsLeastRecentlyUsedUnpinned) {
  auto c = BlobCache::Open(root_);
  ASSERT_TRUE(c.ok());
  const std::string oldest = Put(*c, std::string(100, 'a'), 300);
  const std::string old = Put(*c, std::string(100, 'b'), 200);
  const std::string recent = Put(*c, std::string(100, 'c'), 100);
  EXPECT_EQ(*c->SizeBytes(), 300);
  // a lookup makes `oldest` the most recently used
  bool corrupt = false;
  ASSERT_TRUE(c->Lookup(oldest, 100, &corrupt).ok());
  auto r = c->Trim(200, {recent});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->evicted_blobs, 1);
  EXPECT_EQ(r->remaining_bytes, 200);  // `old` went: least recently used (`oldest` was just used)
  EXPECT_FALSE(FileExists(c->BlobPath(old)));
  EXPECT_TRUE(FileExists(c->BlobPath(recent)));
  r = c->Trim(0, {recent});
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(FileExists(c->BlobPath(oldest)));
  EXPECT_TRUE(FileExists(c->BlobPath(recent)));
  // parts and other files are never counted or evicted
  ASSERT_TRUE(WriteFileAtomic(c->PartPath(old), "partial").ok());
  EXPECT_EQ(*c->SizeBytes(), 100);
  ASSERT_TRUE(c->Trim(0, {}).ok());
  EXPECT_TRUE(FileExists(c->PartPath(old)));
}

}  // namespace
}  // namespace vqi::agent
