#include "vqi/inspect/watcher.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "vqi/base/file.h"

namespace vqi::inspect {
namespace {

namespace fs = std::filesystem;

class WatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() /
            ("watcher_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  // A file whose mtime lies `age_s` seconds in the past.
  void Old(const std::string& name, int age_s) {
    ASSERT_TRUE(WriteFileAtomic(dir_ + "/" + name, name).ok());
    struct timespec t[2];
    clock_gettime(CLOCK_REALTIME, &t[0]);
    t[0].tv_sec -= age_s;
    t[1] = t[0];
    ASSERT_EQ(utimensat(AT_FDCWD, (dir_ + "/" + name).c_str(), t, 0), 0);
  }
  std::optional<std::string> Next(DirectoryWatcher& w, int ms = 500) {
    auto n = w.Next(ms, nullptr);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : std::nullopt;
  }
  std::string dir_;
};

TEST_F(WatcherTest, ScanHandsOutExistingFilesOldestFirstAndSkipsHiddenAndTemp) {
  Old("b.jpg", 30);
  Old("a.jpg", 20);
  Old(".hidden.jpg", 40);
  Old("c.jpg.tmp", 40);
  Old("d.part", 40);
  fs::create_directories(dir_ + "/sub");
  auto w = DirectoryWatcher::Open(dir_, 2.0, RealClock());
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(Next(**w), "b.jpg");
  EXPECT_EQ(Next(**w), "a.jpg");
  EXPECT_EQ(Next(**w, 100), std::nullopt);
}

TEST_F(WatcherTest, RenamedInAndClosedAfterWritingAreHandedOutOnce) {
  auto w = DirectoryWatcher::Open(dir_, 2.0, RealClock());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/moved.jpg", "x").ok());  // tmp + rename: IN_MOVED_TO
  {
    std::ofstream f(dir_ + "/written.jpg");  // written in place: IN_CLOSE_WRITE at close
    f << "partial";
    f.flush();
    EXPECT_EQ(Next(**w), "moved.jpg");
    EXPECT_EQ(Next(**w, 150), std::nullopt);  // still open for writing: not handed out
    f << " rest";
  }
  EXPECT_EQ(Next(**w), "written.jpg");
  EXPECT_EQ(Next(**w, 100), std::nullopt);
}

TEST_F(WatcherTest, AYoungFileFoundByTheScanWaitsUntilItSettles) {
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/young.jpg", "x").ok());  // written before the watch
  auto w = DirectoryWatcher::Open(dir_, 0.4, RealClock());
  ASSERT_TRUE(w.ok());
  EXPECT_EQ((*w)->Backlog(), 1u);
  EXPECT_EQ(Next(**w, 150), std::nullopt);  // younger than the settle time
  EXPECT_EQ(Next(**w, 1500), "young.jpg");
}

// Arrival order across a restart: a file renamed in just before the watch started (found by the
// scan, still settling) comes out before one renamed in just after (seen by inotify).
TEST_F(WatcherTest, AFileRenamedInAfterTheScanWaitsBehindASettlingOne) {
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/b-first.jpg", "x").ok());  // before the watch
  auto w = DirectoryWatcher::Open(dir_, 0.3, RealClock());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/a-second.jpg", "y").ok());  // IN_MOVED_TO
  EXPECT_EQ(Next(**w, 1500), "b-first.jpg");
  EXPECT_EQ(Next(**w, 1500), "a-second.jpg");
  EXPECT_EQ(Next(**w, 100), std::nullopt);
}

TEST_F(WatcherTest, TheFolderVanishingIsAnError) {
  auto w = DirectoryWatcher::Open(dir_, 0, RealClock());
  ASSERT_TRUE(w.ok());
  fs::remove_all(dir_);
  auto n = (*w)->Next(500, nullptr);
  ASSERT_FALSE(n.ok());
  EXPECT_EQ(n.status().code(), StatusCode::kUnavailable);
}

TEST_F(WatcherTest, OpenRefusesMissingAndNonFolders) {
  EXPECT_EQ(DirectoryWatcher::Open(dir_ + "/missing", 0, RealClock()).status().code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/f", "x").ok());
  EXPECT_EQ(DirectoryWatcher::Open(dir_ + "/f", 0, RealClock()).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(WatcherTest, CancelStopsTheWait) {
  auto w = DirectoryWatcher::Open(dir_, 0, RealClock());
  ASSERT_TRUE(w.ok());
  std::atomic<bool> cancel{true};
  auto n = (*w)->Next(10000, &cancel);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, std::nullopt);
}

}  // namespace
}  // namespace vqi::inspect
