#include "vqi/inspect/journal.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "vqi/base/file.h"

namespace vqi::inspect {
namespace {

namespace fs = std::filesystem;

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("journal_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "cam");
    cam_ = (dir_ / "cam").string();
    path_ = (dir_ / "processed.journal").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& data) {
    ASSERT_TRUE(WriteFileAtomic(cam_ + "/" + name, data).ok());
  }
  fs::path dir_;
  std::string cam_, path_;
};

TEST_F(JournalTest, CommittedKeysSurviveReopen) {
  Write("a.jpg", "aaa");
  Write("b.jpg", "bbb");
  auto a = StatKey(cam_, "a.jpg"), b = StatKey(cam_, "b.jpg");
  ASSERT_TRUE(a.ok() && b.ok());
  {
    auto j = ProcessedJournal::Open(path_, cam_);
    ASSERT_TRUE(j.ok()) << j.status().ToString();
    EXPECT_FALSE((*j)->Contains(*a));
    ASSERT_TRUE((*j)->Commit(*a).ok());
    EXPECT_TRUE((*j)->Contains(*a));
  }
  auto j = ProcessedJournal::Open(path_, cam_);
  ASSERT_TRUE(j.ok());
  EXPECT_TRUE((*j)->Contains(*a));
  EXPECT_FALSE((*j)->Contains(*b));
}

TEST_F(JournalTest, ANewImageUnderAnOldNameIsNew) {
  Write("a.jpg", "first");
  auto first = StatKey(cam_, "a.jpg");
  ASSERT_TRUE(first.ok());
  {
    auto j = ProcessedJournal::Open(path_, cam_);
    ASSERT_TRUE((*j)->Commit(*first).ok());
  }
  Write("a.jpg", "second image");  // renamed over the old one: new inode
  auto second = StatKey(cam_, "a.jpg");
  ASSERT_TRUE(second.ok());
  auto j = ProcessedJournal::Open(path_, cam_);
  ASSERT_TRUE(j.ok());
  EXPECT_FALSE((*j)->Contains(*second));
  EXPECT_EQ((*j)->size(), 0u);  // the stale entry was compacted away
}

TEST_F(JournalTest, CompactsEntriesOfDeletedFiles) {
  Write("a.jpg", "a");
  Write("b.jpg", "b");
  {
    auto j = ProcessedJournal::Open(path_, cam_);
    ASSERT_TRUE((*j)->Commit(*StatKey(cam_, "a.jpg")).ok());
    ASSERT_TRUE((*j)->Commit(*StatKey(cam_, "b.jpg")).ok());
  }
  fs::remove(cam_ + "/a.jpg");
  auto j = ProcessedJournal::Open(path_, cam_);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)->size(), 1u);
  auto text = ReadFile(path_);
  EXPECT_EQ(text->find("a.jpg"), std::string::npos);
  EXPECT_NE(text->find("b.jpg"), std::string::npos);
}

TEST_F(JournalTest, TornLastLineIsDroppedOtherDamageIsDataLoss) {
  Write("a.jpg", "a");
  auto a = StatKey(cam_, "a.jpg");
  {
    auto j = ProcessedJournal::Open(path_, cam_);
    ASSERT_TRUE((*j)->Commit(*a).ok());
  }
  {
    std::ofstream(path_, std::ios::app) << "{\"n\":\"b.jpg\",\"i\":1";  // crash mid-append
  }
  auto j = ProcessedJournal::Open(path_, cam_);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_TRUE((*j)->Contains(*a));
  j->reset();
  { std::ofstream(path_, std::ios::app) << "garbage\n" << a->ToString() << "\n"; }
  auto bad = ProcessedJournal::Open(path_, cam_);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(bad.status().message().find("line 2"), std::string::npos) << bad.status().message();
}

TEST_F(JournalTest, StatKeyRefusesFoldersAndMissingFiles) {
  fs::create_directories(cam_ + "/sub");
  EXPECT_EQ(StatKey(cam_, "sub").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(StatKey(cam_, "nope.jpg").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace vqi::inspect
