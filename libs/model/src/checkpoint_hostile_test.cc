// Hostile checkpoint metadata (issue 16): sizes that would allocate terabytes, numbers that
// wrap, a directory given as a model. Each is refused by ReadCheckpoint before any model is
// built, with the file named, and the file is left as it was.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "vqi/base/file.h"
#include "vqi/model/checkpoint.h"

namespace vqi::model {
namespace {

namespace fs = std::filesystem;

class CheckpointHostileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("vqi_ckpt_hostile_" + std::to_string(getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes a checkpoint whose vqi.model JSON is `model` (and vqi.epoch `epoch`), reads it back
  // and expects `code` with `message`; the file must be unchanged afterwards.
  void ExpectRefused(const std::string& model, StatusCode code, const std::string& message,
                     const std::string& epoch = "1") {
    TensorFile f;
    float w[2] = {1, 2};
    f.tensors["w"] = Tensor::F32({2}, w);
    f.metadata["vqi.format"] = kCheckpointFormat;
    f.metadata["vqi.model"] = model;
    f.metadata["vqi.epoch"] = epoch;
    const std::string path = (dir_ / "m.safetensors").string();
    ASSERT_TRUE(WriteSafetensors(path, f).ok());
    const std::string before = *ReadFile(path);
    Result<Checkpoint> r = ReadCheckpoint(path);
    ASSERT_FALSE(r.ok()) << "accepted: " << model;
    EXPECT_EQ(r.status().code(), code) << r.status().ToString();
    EXPECT_NE(r.status().message().find(message), std::string::npos) << r.status().ToString();
    EXPECT_EQ(*ReadFile(path), before);
  }
  static std::string Model(const std::string& extra) {
    return R"({"scale":"t","class_names":["scratch"],"input_w":480,"input_h":320)" + extra + "}";
  }
  fs::path dir_;
};

TEST_F(CheckpointHostileTest, RegMaxFromMetadataIsBounded) {
  ExpectRefused(Model(R"(,"reg_max":1000000000)"), StatusCode::kInvalidArgument,
                "reg_max 1000000000 is out of range [1, 64]");
  ExpectRefused(Model(R"(,"reg_max":0)"), StatusCode::kInvalidArgument, "reg_max 0");
}

TEST_F(CheckpointHostileTest, InputSizeFromMetadataIsBounded) {
  ExpectRefused(R"({"scale":"t","class_names":["a"],"input_w":1048576,"input_h":1048576})",
                StatusCode::kInvalidArgument,
                "input size 1048576x1048576 must be multiples of 32 in [32, 4096]");
  // 2^32 + 32 used to be read as int 32.
  ExpectRefused(R"({"scale":"t","class_names":["a"],"input_w":4294967328,"input_h":320})",
                StatusCode::kInvalidArgument,
                "input_w 4294967328 is not an integer in the int range");
  ExpectRefused(R"({"scale":"t","class_names":["a"],"input_w":480.9,"input_h":320})",
                StatusCode::kInvalidArgument, "input_w 480.9 is not an integer");
}

TEST_F(CheckpointHostileTest, ClassCountAndNamesAreBounded) {
  std::string many = "[";
  for (int i = 0; i < kMaxClasses + 1; ++i) many += std::string(i ? "," : "") + "\"c\"";
  many += "]";
  ExpectRefused(R"({"scale":"t","input_w":480,"input_h":320,"class_names":)" + many + "}",
                StatusCode::kResourceExhausted, "4097 classes, more than the limit 4096");
  ExpectRefused(R"({"scale":"t","input_w":480,"input_h":320,"class_names":[")" +
                    std::string(300, 'n') + "\"]}",
                StatusCode::kResourceExhausted, "a class name of 300 bytes");
}

TEST_F(CheckpointHostileTest, OtherBadMetadataIsRefused) {
  ExpectRefused(Model(R"(,"strides":[8,16,4294967304])"), StatusCode::kInvalidArgument,
                "strides must be [8, 16, 32]");
  ExpectRefused(Model(""), StatusCode::kInvalidArgument, "vqi.epoch '12x' is not an epoch number",
                "12x");
  ExpectRefused("[1]", StatusCode::kInvalidArgument, "model config: not a JSON object");
}

// Regression (issue 16): a directory given as a model was reported as an empty file.
TEST_F(CheckpointHostileTest, DirectoryIsReportedAsADirectory) {
  fs::create_directories(dir_ / "best.safetensors");
  Result<Checkpoint> r = ReadCheckpoint((dir_ / "best.safetensors").string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("best.safetensors: is a directory, not a file"),
            std::string::npos)
      << r.status().ToString();
}

}  // namespace
}  // namespace vqi::model
