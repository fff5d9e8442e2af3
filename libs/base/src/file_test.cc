#include "vqi/base/file.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "vqi/base/hash.h"
#include "vqi/base/json.h"

namespace vqi {
namespace {

namespace fs = std::filesystem;

class FileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vqi_file_test_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(FileTest, AtomicWriteCreatesParentsAndReplaces) {
  std::string path = (dir_ / "a" / "b.txt").string();
  ASSERT_TRUE(WriteFileAtomic(path, "one").ok());
  ASSERT_TRUE(WriteFileAtomic(path, "two").ok());
  EXPECT_EQ(*ReadFile(path), "two");
  int entries = 0;
  for (auto& e : fs::directory_iterator(dir_ / "a")) entries += e.is_regular_file();
  EXPECT_EQ(entries, 1) << "no temporary file left behind";
}

TEST_F(FileTest, MissingFileIsNotFound) {
  EXPECT_EQ(ReadFile((dir_ / "none").string()).status().code(), StatusCode::kNotFound);
}

// Regression (issue 16): a directory given as a model was reported as an empty file.
TEST_F(FileTest, DirectoryIsNamedAsADirectory) {
  fs::create_directories(dir_ / "model.safetensors");
  Result<std::string> r = ReadFile((dir_ / "model.safetensors").string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("model.safetensors: is a directory, not a file"),
            std::string::npos)
      << r.status().ToString();
}

TEST_F(FileTest, SizeLimitIsCheckedBeforeReading) {
  std::string path = (dir_ / "big").string();
  ASSERT_TRUE(WriteFileAtomic(path, std::string(100, 'x')).ok());
  Result<std::string> r = ReadFile(path, 99);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("100 bytes, over the limit of 99 bytes"), std::string::npos)
      << r.status().ToString();
  EXPECT_EQ(ReadFile(path, 100)->size(), 100u);
  // A stream (no size up front) stops at the limit too.
  Result<std::string> z = ReadFile("/dev/zero", 1 << 20);
  ASSERT_FALSE(z.ok());
  EXPECT_EQ(z.status().code(), StatusCode::kResourceExhausted);
}

TEST(HashTest, Sha256KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;
  h.Update("a");
  h.Update("bc");
  EXPECT_EQ(h.FinalHex(), Sha256Hex("abc"));
}

TEST(JsonTest, MalformedJsonNamesPlaceAndOffset) {
  Result<Json> r = ParseJson("{\"a\": [1, }", "def.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("def.json: malformed JSON at byte"), std::string::npos)
      << r.status().message();
}

// Regression (workflow_definition_fuzz): a number overflow threw out_of_range, not parse_error.
TEST(JsonTest, NumberOverflowIsAnErrorNotACrash) {
  Result<Json> r = ParseJson("38E538", "def.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("def.json: malformed JSON"), std::string::npos);
}

}  // namespace
}  // namespace vqi
