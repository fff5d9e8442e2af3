// The IPC frame codec: round trip, split delivery, bounds, garbage; base64.
#include "vqi/ipc_client/frame.h"

#include <sys/socket.h>
#include <unistd.h>

#include "gtest/gtest.h"

namespace vqi::ipc {
namespace {

TEST(FrameTest, RoundTripAcrossSplitReads) {
  auto a = EncodeFrame(Json{{"op", "x"}, {"n", 1}});
  auto b = EncodeFrame(Json{{"op", "y"}});
  ASSERT_TRUE(a.ok() && b.ok());
  const std::string stream = *a + *b;
  FrameReader r;
  std::vector<Json> got;
  for (char c : stream) {  // one byte at a time
    ASSERT_TRUE(r.Feed(std::string_view(&c, 1)).ok());
    while (auto f = r.Next()) {
      ASSERT_TRUE(f->ok()) << f->status().ToString();
      got.push_back(**f);
    }
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]["n"], 1);
  EXPECT_EQ(got[1]["op"], "y");
}

TEST(FrameTest, OversizedAndZeroLengthsAreRefusedBeforeBuffering) {
  FrameReader r(100);
  std::string header("\x00\x00\x00\x65", 4);  // 101 bytes
  Status s = r.Feed(header);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("101"), std::string::npos);
  FrameReader z;
  EXPECT_FALSE(z.Feed(std::string("\0\0\0\0", 4)).ok());
  EXPECT_EQ(EncodeFrame(Json{{"x", std::string(200, 'a')}}, 100).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(FrameTest, GarbageAndNonObjectsAreErrors) {
  FrameReader r;
  ASSERT_TRUE(r.Feed(std::string("\0\0\0\x03{{{", 7)).ok());
  auto f = r.Next();
  ASSERT_TRUE(f.has_value());
  EXPECT_FALSE(f->ok());
  FrameReader r2;
  ASSERT_TRUE(r2.Feed(std::string("\0\0\0\x02[]", 6)).ok());
  auto g = r2.Next();
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(g->status().code(), StatusCode::kInvalidArgument);
}

// Timeout 0 takes what has already arrived without waiting (events between two images).
TEST(FrameTest, ReadWithTimeoutZeroTakesWhatArrivedAndDoesNotWait) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  FrameReader reader;
  EXPECT_EQ(ReadFrame(fds[1], reader, 0).status().code(), StatusCode::kDeadlineExceeded);
  ASSERT_TRUE(WriteFrame(fds[0], Json{{"event", "configurationUpdate"}}).ok());
  auto got = ReadFrame(fds[1], reader, 0);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)["event"], "configurationUpdate");
  EXPECT_EQ(ReadFrame(fds[1], reader, 0).status().code(), StatusCode::kDeadlineExceeded);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(FrameTest, Base64RoundTripAndBadInput) {
  for (std::string s : {std::string(""), std::string("f"), std::string("fo"), std::string("foo"),
                        std::string("\0\xff\x10\x80", 4)}) {
    auto d = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, s);
  }
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_FALSE(Base64Decode("Zm9").ok());
  EXPECT_FALSE(Base64Decode("Zm!v").ok());
  EXPECT_FALSE(Base64Decode("Z=9v").ok());
}

}  // namespace
}  // namespace vqi::ipc
