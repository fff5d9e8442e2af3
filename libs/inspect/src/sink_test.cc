#include "vqi/inspect/sink.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "vqi/base/file.h"

namespace vqi::inspect {
namespace {

namespace fs = std::filesystem;

class SinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (fs::temp_directory_path() /
             ("sink_test_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                .string();
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  OrderedJson Result(const std::string& id, const std::string& name) {
    OrderedJson j;
    j["image"] = {{"id", id}, {"name", name}};
    return j;
  }
  std::string root_;
};

TEST_F(SinkTest, JsonLinesAppendsOneLinePerResultAcrossReopens) {
  {
    auto s = JsonLinesSink::Open(root_ + "/r.jsonl");
    ASSERT_TRUE(s.ok());
    ASSERT_TRUE((*s)->Publish("t", "1", Result("a", "a.jpg")).ok());
  }
  auto s = JsonLinesSink::Open(root_ + "/r.jsonl");
  ASSERT_TRUE((*s)->Publish("t", "2", Result("b", "b.jpg")).ok());
  EXPECT_EQ(*ReadFile(root_ + "/r.jsonl"),
            "{\"image\":{\"id\":\"a\",\"name\":\"a.jpg\"}}\n"
            "{\"image\":{\"id\":\"b\",\"name\":\"b.jpg\"}}\n");
  EXPECT_EQ(JsonLinesSink::Open(root_ + "/missing/r.jsonl").status().code(),
            StatusCode::kUnavailable);
}

TEST_F(SinkTest, FolderUploaderKeepsTheImageAndItsResultByImageId) {
  ASSERT_TRUE(WriteFileAtomic(root_ + "/cam.jpg", "pixels").ok());
  FolderUploader up(root_ + "/uncertain");
  ASSERT_TRUE(up.Upload(root_ + "/cam.jpg", Result("abc", "cam.jpg")).ok());
  EXPECT_EQ(*ReadFile(root_ + "/uncertain/abc.jpg"), "pixels");
  auto j = ReadJsonFile(root_ + "/uncertain/abc.json");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["image"]["name"], "cam.jpg");
  EXPECT_FALSE(up.Upload(root_ + "/gone.jpg", Result("def", "gone.jpg")).ok());
}

class Failing : public ResultSink {
 public:
  Status Publish(const std::string&, const std::string&, const OrderedJson&) override {
    ++calls;
    return Unavailable("down");
  }
  int calls = 0;
};

TEST_F(SinkTest, MultiSinkStopsAtTheFirstFailure) {
  MultiSink multi;
  auto failing = std::make_unique<Failing>();
  Failing* f = failing.get();
  multi.Add(std::move(failing));
  auto lines = JsonLinesSink::Open(root_ + "/r.jsonl");
  multi.Add(std::move(*lines));
  EXPECT_EQ(multi.Publish("t", "1", Result("a", "a.jpg")).code(), StatusCode::kUnavailable);
  EXPECT_EQ(f->calls, 1);
  EXPECT_EQ(*ReadFile(root_ + "/r.jsonl"), "");  // nothing after the failed sink
}

}  // namespace
}  // namespace vqi::inspect
