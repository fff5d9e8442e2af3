// The spool on its own: order, ids, bounds, reopen after a crash (docs/design/ipc.md "Spool").
#include "vqi/agent/spool.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "gtest/gtest.h"
#include "vqi/base/file.h"

namespace vqi::agent {
namespace {

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (std::filesystem::temp_directory_path() / "vqi-spool-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    dir_ = t;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  SpoolOptions Options() {
    SpoolOptions o;
    o.dir = dir_ + "/spool";
    return o;
  }
  std::string dir_;
};

TEST_F(SpoolTest, KeepsOrderAndGivesUniqueIdsInsideThePayload) {
  auto s = Spool::Open(Options());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::set<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    auto id = (*s)->Append("vqi/v1/results/t/c", "c", Json{{"n", i}});
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    ids.insert(*id);
  }
  EXPECT_EQ(ids.size(), 5u);
  auto all = (*s)->After(0, 100);
  ASSERT_EQ(all.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    auto body = ParseJson(all[i].payload);
    ASSERT_TRUE(body.ok());
    EXPECT_EQ((*body)["n"], i);
    EXPECT_EQ((*body)["vqiMessageId"], all[i].id);
    EXPECT_EQ(all[i].topic, "vqi/v1/results/t/c");
  }
  EXPECT_EQ((*s)->After(all[2].seq, 100).size(), 2u);
  ASSERT_TRUE((*s)->Remove(all[0].seq).ok());
  ASSERT_TRUE((*s)->Remove(all[0].seq).ok());  // twice: fine
  EXPECT_EQ((*s)->Stats().messages, 4u);
}

TEST_F(SpoolTest, ReopenKeepsWhatWasNotAcknowledgedWithTheSameIdsAndDropsTornWrites) {
  std::string first_id;
  {
    auto s = Spool::Open(Options());
    ASSERT_TRUE(s.ok());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE((*s)->Append("a/b", "c", Json{{"n", i}}).ok());
    auto all = (*s)->After(0, 10);
    ASSERT_TRUE((*s)->Remove(all[0].seq).ok());
    first_id = all[1].id;
  }
  // A crash in the middle of an Append leaves a temporary file: never a message.
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/spool/0000000000000009.msg.tmp", "{\"id\":").ok());
  auto s = Spool::Open(Options());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  auto all = (*s)->After(0, 10);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, first_id);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/spool/0000000000000009.msg.tmp"));
  // New messages come after the old ones and get ids never used before.
  auto id = (*s)->Append("a/b", "c", Json{{"n", 9}});
  ASSERT_TRUE(id.ok());
  all = (*s)->After(0, 10);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].id, *id);
  EXPECT_GT(all[2].seq, all[1].seq);
  EXPECT_NE(*id, all[0].id);
}

TEST_F(SpoolTest, FullSpoolRefusesNewMessagesAndKeepsTheOldOnes) {
  SpoolOptions o = Options();
  o.max_messages = 3;
  auto s = Spool::Open(o);
  ASSERT_TRUE(s.ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*s)->Append("a/b", "c", Json{{"n", i}}).ok());
  auto refused = (*s)->Append("a/b", "c", Json{{"n", 3}});
  ASSERT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(refused.status().message().find("nothing dropped"), std::string::npos);
  auto all = (*s)->After(0, 10);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(ParseJson(all[0].payload).value()["n"], 0);
  EXPECT_EQ((*s)->Stats().refused, 1u);
  // Room again once one is acknowledged.
  ASSERT_TRUE((*s)->Remove(all[0].seq).ok());
  EXPECT_TRUE((*s)->Append("a/b", "c", Json{{"n", 4}}).ok());
}

TEST_F(SpoolTest, ByteBoundAndMessageSizeBound) {
  SpoolOptions o = Options();
  o.max_bytes = 400;
  o.max_message_bytes = 150;
  auto s = Spool::Open(o);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->Append("a/b", "c", Json{{"x", std::string(200, 'x')}}).status().code(),
            StatusCode::kResourceExhausted);
  int stored = 0;
  while ((*s)->Append("a/b", "c", Json{{"x", std::string(50, 'x')}}).ok()) ++stored;
  EXPECT_GE(stored, 1);
  EXPECT_LE((*s)->Stats().bytes, 400u);
  EXPECT_EQ((*s)->Stats().messages, static_cast<size_t>(stored));
  EXPECT_EQ((*s)->Append("a/b", "c", Json::array()).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SpoolTest, DamagedMessageFileIsReportedNotGuessed) {
  ASSERT_TRUE(MakeDirs(dir_ + "/spool").ok());
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/spool/0000000000000001.msg", "garbage").ok());
  auto s = Spool::Open(Options());
  ASSERT_EQ(s.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(s.status().message().find("0000000000000001.msg"), std::string::npos);
}

}  // namespace
}  // namespace vqi::agent
