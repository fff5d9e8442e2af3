// Hostile command-line numbers and strings (issue 16): the validators of apps/vqi/cli.h in
// process, then the real binary, which must refuse with the flag, the value and the accepted
// range, exit 2, and leave the vqi home untouched.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "cli.h"
#include "run_vqi.h"

namespace {

namespace fs = std::filesystem;
using vqi::cli::InRange;

// The error CLI11 reports for `--x <value>` on an option checked by `v` ("" when accepted);
// `out` receives the stored value.
template <class T>
std::string ParseWith(const std::string& value, CLI::Validator v, T* out, bool transform = false) {
  CLI::App app;
  auto* opt = app.add_option("--x", *out);
  if (transform)
    opt->transform(v);
  else
    opt->check(v);
  try {
    app.parse(std::vector<std::string>{value, "--x"});  // CLI11 takes a reversed vector
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  return "";
}

TEST(CliValidators, DecimalIntegersInRangeAreAccepted) {
  int v = 0;
  EXPECT_EQ(ParseWith("7", InRange(1, 10), &v), "");
  EXPECT_EQ(v, 7);
  EXPECT_EQ(ParseWith("+3", InRange(1, 10), &v), "");
  EXPECT_EQ(v, 3);
  EXPECT_EQ(ParseWith("0", InRange(0, 10), &v), "");
  EXPECT_EQ(v, 0);
  // CLI11 alone reads a leading zero as octal: 010 would silently be 8.
  EXPECT_EQ(ParseWith("010", InRange(1, 10), &v),
            "--x: '010' is not a decimal integer (accepted range [1, 10])");
  EXPECT_EQ(v, 0);
}

TEST(CliValidators, IntegersOutOfRangeOrMalformedAreRefused) {
  int v = 5;
  EXPECT_EQ(ParseWith("11", InRange(1, 10), &v), "--x: 11 is out of range [1, 10]");
  EXPECT_EQ(ParseWith("-1", InRange(1, 10), &v), "--x: -1 is out of range [1, 10]");
  EXPECT_EQ(ParseWith("99999999999999999999", InRange(1, 10), &v),
            "--x: 99999999999999999999 is out of range [1, 10]");
  EXPECT_EQ(ParseWith("1.5", InRange(1, 10), &v),
            "--x: '1.5' is not a decimal integer (accepted range [1, 10])");
  EXPECT_EQ(ParseWith("0x5", InRange(1, 10), &v),
            "--x: '0x5' is not a decimal integer (accepted range [1, 10])");
  EXPECT_EQ(ParseWith("+-5", InRange(-10, 10), &v),
            "--x: '+-5' is not a decimal integer (accepted range [-10, 10])");
  EXPECT_EQ(ParseWith("", InRange(1, 10), &v),
            "--x: '' is not a decimal integer (accepted range [1, 10])");
  EXPECT_EQ(v, 5);  // nothing stored
  uint64_t u = 9;
  // CLI11 alone would wrap -1 to 18446744073709551615.
  EXPECT_EQ(ParseWith("-1", InRange<uint64_t>(0, UINT64_MAX), &u),
            "--x: -1 is out of range [0, 18446744073709551615]");
  EXPECT_EQ(u, 9u);
}

TEST(CliValidators, FloatsMustBeFiniteAndInRange) {
  double d = 0.5;
  EXPECT_EQ(ParseWith("nan", InRange(0.0, 1.0), &d),
            "--x: nan is not a finite number (accepted range [0, 1])");
  EXPECT_EQ(ParseWith("-inf", InRange(0.0, 1.0), &d),
            "--x: -inf is not a finite number (accepted range [0, 1])");
  EXPECT_EQ(ParseWith("1e400", InRange(0.0, 1.0), &d), "--x: 1e400 is out of range [0, 1]");
  EXPECT_EQ(ParseWith("1.01", InRange(0.0, 1.0), &d), "--x: 1.01 is out of range [0, 1]");
  EXPECT_EQ(ParseWith("0.5x", InRange(0.0, 1.0), &d),
            "--x: '0.5x' is not a number (accepted range [0, 1])");
  EXPECT_EQ(d, 0.5);
  EXPECT_EQ(ParseWith("2.5e-1", InRange(0.0, 1.0), &d), "");
  EXPECT_EQ(d, 0.25);
}

TEST(CliValidators, ThreadCountTakesAllOrARange) {
  int t = 0;
  EXPECT_EQ(ParseWith("all", vqi::cli::ThreadCount(), &t, true), "");
  EXPECT_EQ(t, vqi::HardwareThreads());
  EXPECT_EQ(ParseWith("0", vqi::cli::ThreadCount(), &t, true),
            "--x: 0 is out of range [1, 256] or 'all' for all available cores");
  std::string s = "x";
  EXPECT_EQ(ParseWith("", vqi::cli::NonEmpty(), &s), "--x: must not be empty");
}

// ---- the vqi binary -----------------------------------------------------------------------

class CliFlagsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Every case drives `vqi model train`; a build without training (VQI_WITH_TRAIN=OFF,
    // `make test-minimal`) has no such verb.
    if (vqi::testing::RunVqi("model --help").out.find("\n  train ") == std::string::npos)
      GTEST_SKIP() << "this vqi has no `model train` (VQI_WITH_TRAIN=OFF)";
    home_ = (fs::temp_directory_path() / ("vqi_cli_flags_" + std::to_string(getpid()))).string();
    fs::remove_all(home_);
  }
  void TearDown() override { fs::remove_all(home_); }
  // Runs vqi with a fresh home; expects exit 2 with `message` and an untouched home.
  void ExpectRefused(const std::string& args, const std::string& message) {
    vqi::testing::CmdResult r = vqi::testing::RunVqi("--home " + home_ + " " + args);
    EXPECT_EQ(r.code, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find("error: " + message), std::string::npos) << args << "\n" << r.out;
    EXPECT_FALSE(fs::exists(home_)) << args << ": the vqi home was created";
  }
  std::string home_;
};

TEST_F(CliFlagsTest, GlobalThreadsRefusedOutsideRange) {
  ExpectRefused("--threads 65535 model train", "--threads: 65535 is out of range [1, 256]");
  ExpectRefused("--threads 0 model train", "--threads: 0 is out of range [1, 256]");
}

TEST_F(CliFlagsTest, EmptyHomeIsAnErrorNotTheDefault) {
  vqi::testing::CmdResult r = vqi::testing::RunVqi("--home '' model train --synthetic 8");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("error: --home: must not be empty"), std::string::npos) << r.out;
}

TEST_F(CliFlagsTest, TrainNumbersRefusedWithTheirRange) {
  ExpectRefused("model train --synthetic 8 --lr nan",
                "--lr: nan is not a finite number (accepted range [1e-08, 10])");
  ExpectRefused("model train --synthetic 8 --epochs 0", "--epochs: 0 is out of range [1, 100000]");
  ExpectRefused("model train --synthetic 8 --batch 99999999999999999999",
                "--batch: 99999999999999999999 is out of range [1, 1024]");
  ExpectRefused("model train --synthetic 8 --time-limit 1e400",
                "--time-limit: 1e400 is out of range [0, 525600]");
  ExpectRefused("model train --synthetic 8 --seed -1", "--seed: -1 is out of range");
  ExpectRefused("model train --synthetic 8 --out ''", "--out: must not be empty");
}

TEST_F(CliFlagsTest, TrainImageSizeRefusedBeforeAnythingIsWritten) {
  ExpectRefused(
      "model train --synthetic 8 --imgsz 480x320abc",
      "--imgsz: 480x320abc: height '320abc' is not a decimal integer (accepted range [32, 4096])");
  ExpectRefused("model train --synthetic 8 --imgsz 100000x32",
                "--imgsz: 100000x32: width 100000 is out of range [32, 4096]");
}

// Issue 17: no re-exec. `vqi model train` gets libgomp's passive wait policy in-process
// (.preinit_array in main.cc); libgomp reports what it read when it loaded.
TEST_F(CliFlagsTest, TrainSetsPassiveOpenMpInProcess) {
  auto with_env = [&](const std::string& env, const std::string& args) {
    const std::string cmd = "env -u OMP_WAIT_POLICY " + env + " OMP_DISPLAY_ENV=verbose " +
                            std::string(std::getenv("VQI_BIN")) + " --home " + home_ + " " + args +
                            " 2>&1";
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    char buf[4096];
    size_t n;
    while (p && (n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    if (p) pclose(p);
    return out;
  };
  std::string train = with_env("", "model train --synthetic 8 --epochs 0");
  EXPECT_NE(train.find("GOMP_SPINCOUNT = '0'"), std::string::npos) << train;
  EXPECT_NE(train.find("--epochs: 0 is out of range"), std::string::npos) << train;
  // Other verbs keep libgomp's default; a policy the caller chose is kept.
  std::string other = with_env("", "--version");
  EXPECT_NE(other.find("GOMP_SPINCOUNT = '300000'"), std::string::npos) << other;
  std::string chosen = with_env("OMP_WAIT_POLICY=ACTIVE", "model train --epochs 0");
  EXPECT_NE(chosen.find("OMP_WAIT_POLICY = 'ACTIVE'"), std::string::npos) << chosen;
  EXPECT_FALSE(fs::exists(home_));
}

}  // namespace
