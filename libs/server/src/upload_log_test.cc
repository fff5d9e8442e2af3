#include "vqi/server/upload_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace vqi::server {
namespace {

TEST(UploadLogTest, RecentDigestsOnly) {
  const std::string home =
      std::filesystem::temp_directory_path() / ("vqi_uploads_" + std::to_string(getpid()));
  std::filesystem::remove_all(home);
  EXPECT_EQ(OpenUploadLog(home, false).status().code(), StatusCode::kNotFound);
  auto log = OpenUploadLog(home);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  const std::string a(64, 'a'), b(64, 'b');
  ASSERT_TRUE((*log)->Record(a, 10, "token:ci", 1000).ok());
  ASSERT_TRUE((*log)->Record(b, 20, "token:ci", 5000).ok());
  ASSERT_TRUE((*log)->Record(a, 10, "token:ci", 9000).ok());  // a again, later
  auto since = (*log)->UploadedSince(6000);
  ASSERT_TRUE(since.ok());
  EXPECT_EQ(*since, (std::set<std::string>{a}));
  since = (*log)->UploadedSince(5000);
  ASSERT_TRUE(since.ok());
  EXPECT_EQ(*since, (std::set<std::string>{a, b}));
  since = (*log)->UploadedSince(10000);
  ASSERT_TRUE(since.ok());
  EXPECT_TRUE(since->empty());
  log->reset();
  auto reopened = OpenUploadLog(home, false);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->UploadedSince(0)->size(), 2u);
  std::filesystem::remove_all(home);
}

}  // namespace
}  // namespace vqi::server
