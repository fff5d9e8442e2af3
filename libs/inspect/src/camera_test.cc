#include "vqi/inspect/camera.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "vqi/base/file.h"

namespace vqi::inspect {
namespace {

namespace fs = std::filesystem;

class CameraTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (fs::temp_directory_path() /
             ("camera_test_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                .string();
    fs::remove_all(root_);
    fs::create_directories(root_ + "/src");
    for (const char* n : {"b.jpg", "a.jpg", ".hidden"})
      ASSERT_TRUE(WriteFileAtomic(root_ + "/src/" + n, n).ok());
    fs::create_directories(root_ + "/src/sub");
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string root_;
};

TEST_F(CameraTest, CopiesEachFileAtTheRateAndCyclesWithNewNames) {
  FakeClock clock(1000000);
  CameraOptions o{root_ + "/src", root_ + "/cam", 4, 5};
  std::vector<std::string> written;
  auto r = SimulateCamera(o, clock, [&](const std::string& n) { written.push_back(n); });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(written,
            (std::vector<std::string>{"a.jpg", "b.jpg", "r1-a.jpg", "r1-b.jpg", "r2-a.jpg"}));
  EXPECT_DOUBLE_EQ(r->seconds, 1.0);  // 5 files at 4/s: the last one at 1 s
  EXPECT_EQ(*ReadFile(root_ + "/cam/r1-b.jpg"), "b.jpg");
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(root_ + "/cam")) {
    ++files;
    EXPECT_NE(e.path().filename().string()[0], '.') << "a temporary file was left behind";
  }
  EXPECT_EQ(files, 5u);
}

TEST_F(CameraTest, RefusesBadFolders) {
  FakeClock clock(0);
  EXPECT_FALSE(SimulateCamera({root_ + "/src", root_ + "/src", 1, 0}, clock, nullptr).ok());
  EXPECT_FALSE(SimulateCamera({root_ + "/none", root_ + "/cam", 1, 0}, clock, nullptr).ok());
  fs::create_directories(root_ + "/empty");
  auto r = SimulateCamera({root_ + "/empty", root_ + "/cam", 1, 0}, clock, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no files"), std::string::npos);
  EXPECT_FALSE(SimulateCamera({root_ + "/src", root_ + "/cam", 0, 0}, clock, nullptr).ok());
}

}  // namespace
}  // namespace vqi::inspect
