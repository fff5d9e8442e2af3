// A gtest fixture for CLI tests that need, once per suite, a folder of synthesized tags
// (`vqi dataset synth --count Suite::kImages --seed 5 --out s`) and a random-weight detector
// (`vqi model export --random t --imgsz 96x64 --seed 2 --out m.onnx`) in a temporary folder
// named Suite::kDir + pid. Skips when VQI_BIN is not set; fails the test when making them failed.
// Use: `class MyTest : public SynthModelSuite<MyTest> { static constexpr const char* kDir =
// "vqi_my_"; static constexpr int kImages = 3; ... };` and `P("s/images")`, `P("m.onnx")`.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "run_vqi.h"

namespace vqi::testing {

template <class Suite>
class SynthModelSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* bin = std::getenv("VQI_BIN");
    if (!bin || !std::filesystem::exists(bin)) return;
    dir_ = new std::filesystem::path(std::filesystem::path(::testing::TempDir()) /
                                     (Suite::kDir + std::to_string(getpid())));
    std::filesystem::remove_all(*dir_);
    std::filesystem::create_directories(*dir_);
    ready_ =
        RunVqi("dataset synth --count " + std::to_string(Suite::kImages) + " --seed 5 --out " +
               P("s"))
                .code == 0 &&
        RunVqi("model export --random t --imgsz 96x64 --seed 2 --out " + P("m.onnx")).code == 0;
  }
  static void TearDownTestSuite() {
    if (dir_) std::filesystem::remove_all(*dir_);
  }
  void SetUp() override {
    if (!dir_) GTEST_SKIP() << "VQI_BIN not set or not built";
    ASSERT_TRUE(ready_) << "vqi dataset synth / model export failed";
  }
  static std::string P(const std::string& name) { return (*dir_ / name).string(); }
  static inline std::filesystem::path* dir_ = nullptr;
  static inline bool ready_ = false;
};

}  // namespace vqi::testing
