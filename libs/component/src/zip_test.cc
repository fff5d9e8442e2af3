// CheckZipEntries / ExtractZip on archives built here with libzip.
#include "vqi/component/zip.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <filesystem>

#include "vqi/base/file.h"

namespace vqi::component {
namespace {

namespace fs = std::filesystem;

struct Entry {
  std::string name;
  std::string data;
  mode_t mode = 0;  // Unix mode for the external attributes; 0 = leave libzip's default
};

class ZipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vqi_zip_test_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Make(const std::string& file, const std::vector<Entry>& entries) {
    const std::string path = (dir_ / file).string();
    int err = 0;
    zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    EXPECT_NE(z, nullptr);
    for (const Entry& e : entries) {
      zip_int64_t idx;
      if (!e.name.empty() && e.name.back() == '/') {
        idx = zip_dir_add(z, e.name.substr(0, e.name.size() - 1).c_str(), ZIP_FL_ENC_UTF_8);
      } else {
        zip_source_t* src = zip_source_buffer(z, e.data.data(), e.data.size(), 0);
        idx = zip_file_add(z, e.name.c_str(), src, ZIP_FL_ENC_GUESS | ZIP_FL_OVERWRITE);
      }
      EXPECT_GE(idx, 0) << e.name << ": " << zip_strerror(z);
      if (e.mode) zip_file_set_external_attributes(z, idx, 0, ZIP_OPSYS_UNIX, e.mode << 16);
    }
    EXPECT_EQ(zip_close(z), 0);
    return path;
  }

  std::string Refusal(const std::vector<Entry>& entries, const ZipLimits& limits = {}) {
    auto r = CheckZipEntries(Make("a.zip", entries), limits);
    EXPECT_FALSE(r.ok());
    return r.ok() ? "" : r.status().message();
  }

  fs::path dir_;
};

#define EXPECT_HAS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

TEST_F(ZipTest, ListsAndExtractsAGoodArchive) {
  const std::string zip = Make("good.zip", {{"inference/", ""},
                                            {"inference/main.py", "print('hi')\n", S_IFREG | 0755},
                                            {"inference/requirements.txt", "numpy\n"},
                                            {"README", std::string(100000, 'x')}});
  auto entries = CheckZipEntries(zip);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  ASSERT_EQ(entries->size(), 4u);
  EXPECT_TRUE((*entries)[0].directory);
  EXPECT_TRUE((*entries)[1].executable);
  EXPECT_EQ((*entries)[3].size, 100000u);
  const std::string dest = (dir_ / "out" / "inference").string();
  ASSERT_TRUE(ExtractZip(zip, dest).ok());
  EXPECT_EQ(*ReadFile(dest + "/inference/main.py"), "print('hi')\n");
  EXPECT_EQ(ReadFile(dest + "/README")->size(), 100000u);
  EXPECT_TRUE(fs::status(dest + "/inference/main.py").permissions() == fs::perms(0755));
  EXPECT_TRUE(fs::status(dest + "/inference/requirements.txt").permissions() == fs::perms(0644));
  // Nothing but the destination is left in its folder.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "out"), fs::directory_iterator()), 1);
  EXPECT_EQ(ExtractZip(zip, dest).code(), StatusCode::kAlreadyExists);
}

TEST_F(ZipTest, PathTraversalIsRefusedNamingTheEntry) {
  EXPECT_HAS(Refusal({{"ok.txt", "a"}, {"../evil.sh", "x"}}),
             "a.zip: entry '../evil.sh': contains '..'; it would escape the destination folder");
  EXPECT_HAS(Refusal({{"a/../../evil", "x"}}), "entry 'a/../../evil': contains '..'");
  EXPECT_HAS(Refusal({{"/etc/cron.d/evil", "x"}}), "entry '/etc/cron.d/evil': absolute path");
  EXPECT_HAS(Refusal({{"C:/evil", "x"}}), "entry 'C:/evil': a drive-letter path");
  EXPECT_HAS(Refusal({{"a\\..\\evil", "x"}}), "entry 'a\\..\\evil': contains a backslash");
  EXPECT_HAS(Refusal({{"a/./b", "x"}}), "entry 'a/./b': contains an empty or '.' path segment");
  EXPECT_HAS(Refusal({{"a//b", "x"}}), "entry 'a//b': contains an empty or '.' path segment");
  EXPECT_HAS(Refusal({{"bad\x01name", "x"}}), "contains a control character");
}

TEST_F(ZipTest, SymlinksAndSpecialFilesAreRefused) {
  EXPECT_HAS(Refusal({{"link", "/etc/passwd", S_IFLNK | 0777}}),
             "entry 'link': is a symbolic link; archives may hold only files and folders");
  EXPECT_HAS(Refusal({{"fifo", "", S_IFIFO | 0644}}), "entry 'fifo': is a special file");
}

TEST_F(ZipTest, DuplicateAndConflictingPathsAreRefused) {
  EXPECT_HAS(Refusal({{"a", "1"}, {"a/b", "2"}}),
             "entry 'a/b': 'a' is a file in this archive, not a folder");
  EXPECT_HAS(Refusal({{"a/b", "1"}, {"a", "2"}}), "entry 'a': another entry has the same path");
}

TEST_F(ZipTest, ZipBombsAreRefused) {
  // 8 MiB of zeros compress to a few KiB; the declared size is what counts.
  ZipLimits small;
  small.max_uncompressed_bytes = 1 << 20;
  auto r = CheckZipEntries(Make("bomb.zip", {{"zeros", std::string(8 << 20, '\0')}}), small);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_HAS(r.status().message(), "entry 'zeros': the entries unpack to more than 1048576 bytes");
  EXPECT_LT(fs::file_size(dir_ / "bomb.zip"), 100000u);
  const std::string dest = (dir_ / "bomb").string();
  EXPECT_EQ(ExtractZip((dir_ / "bomb.zip").string(), dest, small).code(),
            StatusCode::kResourceExhausted);
  EXPECT_FALSE(fs::exists(dest));

  ZipLimits few;
  few.max_entries = 3;
  auto many = CheckZipEntries(Make("many.zip", {{"1", ""}, {"2", ""}, {"3", ""}, {"4", ""}}), few);
  ASSERT_FALSE(many.ok());
  EXPECT_EQ(many.status().code(), StatusCode::kResourceExhausted);
  EXPECT_HAS(many.status().message(), "the archive has 4 entries, more than the maximum of 3");
}

TEST_F(ZipTest, AHeaderThatUnderstatesTheSizeIsCaughtWhileInflating) {
  const std::string zip = Make("liar.zip", {{"data.bin", std::string(100000, 'a')}});
  std::string bytes = *ReadFile(zip);
  // Declare 10 bytes in both the local header (offset 22) and the central directory (24).
  auto set_size = [&](size_t at) {
    for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<char>(i == 0 ? 10 : 0);
  };
  ASSERT_EQ(bytes.compare(0, 4, "PK\x03\x04"), 0);
  set_size(22);
  const size_t central = bytes.find("PK\x01\x02");
  ASSERT_NE(central, std::string::npos);
  set_size(central + 24);
  ASSERT_TRUE(WriteFileAtomic(zip, bytes).ok());
  auto entries = CheckZipEntries(zip);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  EXPECT_EQ((*entries)[0].size, 10u);  // the lie passes the header check ...
  const std::string dest = (dir_ / "liar").string();
  const Status st = ExtractZip(zip, dest);
  EXPECT_FALSE(st.ok());  // ... but not extraction
  EXPECT_TRUE(st.code() == StatusCode::kResourceExhausted || st.code() == StatusCode::kDataLoss)
      << st.ToString();
  EXPECT_HAS(st.message(), "entry 'data.bin'");
  EXPECT_FALSE(fs::exists(dest));
}

TEST_F(ZipTest, NotAZipAndMissingFile) {
  const std::string junk = (dir_ / "junk.zip").string();
  ASSERT_TRUE(WriteFileAtomic(junk, "this is not a zip archive").ok());
  auto r = CheckZipEntries(junk);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_HAS(r.status().message(), "junk.zip: ");
  EXPECT_EQ(CheckZipEntries((dir_ / "missing.zip").string()).status().code(),
            StatusCode::kNotFound);
}

TEST_F(ZipTest, CorruptDataIsDataLossAndLeavesNothing) {
  const std::string zip = Make("c.zip", {{"data.bin", std::string(50000, 'q')}});
  // Flip a byte inside the stored data (after the 30-byte local header and the name).
  std::string bytes = *ReadFile(zip);
  bytes[30 + 8 + 20] ^= 0x55;
  ASSERT_TRUE(WriteFileAtomic(zip, bytes).ok());
  const std::string dest = (dir_ / "c").string();
  const Status st = ExtractZip(zip, dest);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
  EXPECT_HAS(st.message(), "entry 'data.bin'");
  EXPECT_FALSE(fs::exists(dest));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()),
            1);  // c.zip only
}

}  // namespace
}  // namespace vqi::component
