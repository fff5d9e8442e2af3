// Threads per instance (issue 17): each backend instance owns its OpenMP thread count. It is
// set on the calling thread only (omp_set_num_threads changes that thread's nthreads-var ICV)
// and the caller's value is restored, so instances with different counts coexist in one
// process and run side by side; out-of-range counts are refused with the accepted range.
#include <omp.h>
#include <strings.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "test_util.h"
#include "testing/yolo_like.h"
#include "vqi/base/file.h"
#include "vqi/infer/onednn.h"

namespace vqi::infer::onednn {
namespace {

std::string ModelPath() {
  model::ModelConfig cfg;
  cfg.input_w = 96;
  cfg.input_h = 64;
  auto bytes = testing::BuildYoloLikeOnnx(cfg);
  EXPECT_TRUE(bytes.ok());
  auto path = std::filesystem::temp_directory_path() /
              ("vqi_onednn_threads_" + std::to_string(::getpid()) + ".onnx");
  EXPECT_TRUE(WriteFileAtomic(path.string(), *bytes).ok());
  return path.string();
}

TEST(OneDnnThreads, TheIcvIsPerThread) {  // the OpenMP property the design relies on
  omp_set_num_threads(3);
  int seen = 0;
  std::thread t([&] {
    omp_set_num_threads(1);
    seen = omp_get_max_threads();
  });
  t.join();
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(omp_get_max_threads(), 3);
}

TEST(OneDnnThreads, OpenAndRunRestoreTheCallersThreadCount) {
  const std::string path = ModelPath();
  omp_set_num_threads(3);
  auto b = OpenOnednnBackend(path, {.threads = 2});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(omp_get_max_threads(), 3);
  std::vector<float> in = testing::RandomVector(3 * 96 * 64, 4);
  std::vector<float> out(NumElements((*b)->Info().output_shape));
  ASSERT_TRUE((*b)->Run(in.data(), out.data()).ok());
  EXPECT_EQ(omp_get_max_threads(), 3);
  EXPECT_NE((*b)->Details().find("threads=2"), std::string::npos) << (*b)->Details();
}

TEST(OneDnnThreads, InstancesWithDifferentCountsRunSideBySide) {
  const std::string path = ModelPath();
  auto one = OpenOnednnBackend(path, {.threads = 1});
  auto two = OpenOnednnBackend(path, {.threads = 2});
  ASSERT_TRUE(one.ok() && two.ok());
  std::vector<float> in = testing::RandomVector(3 * 96 * 64, 9);
  const size_t n = NumElements((*one)->Info().output_shape);
  std::vector<float> want1(n), want2(n);
  ASSERT_TRUE((*one)->Run(in.data(), want1.data()).ok());
  ASSERT_TRUE((*two)->Run(in.data(), want2.data()).ok());
  bool same1 = true, same2 = true;
  auto loop = [&](InferenceBackend* b, const std::vector<float>& want, bool* same) {
    std::vector<float> got(n);
    for (int k = 0; k < 20; ++k) {
      if (!b->Run(in.data(), got.data()).ok() || got != want) *same = false;
    }
  };
  std::thread t1(loop, one->get(), std::cref(want1), &same1);
  std::thread t2(loop, two->get(), std::cref(want2), &same2);
  t1.join();
  t2.join();
  EXPECT_TRUE(same1) << "1-thread instance: not bitwise stable beside a 2-thread one";
  EXPECT_TRUE(same2) << "2-thread instance: not bitwise stable beside a 1-thread one";
}

TEST(OneDnnThreads, OutOfRangeCountsAreRefusedWithTheRange) {
  const std::string path = ModelPath();
  for (int threads : {0, -1, OnednnOptions::kMaxThreads + 1, 65535}) {
    auto b = OpenOnednnBackend(path, {.threads = threads});
    ASSERT_FALSE(b.ok()) << threads;
    EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(b.status().message().find("accepted: 1..256"), std::string::npos)
        << b.status().ToString();
  }
  auto bad_block = OpenOnednnBackend(path, {.block = 4});
  EXPECT_EQ(bad_block.status().code(), StatusCode::kInvalidArgument);
  auto bad_serial = OpenOnednnBackend(path, {.serial_conv_macs = -2});
  EXPECT_EQ(bad_serial.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_serial.status().message().find("or -1"), std::string::npos)
      << bad_serial.status().ToString();
}

TEST(OneDnnThreads, AutoSerialThresholdFollowsTheWaitPolicy) {
  // -1 (default): 0 while libgomp's threads spin, 8 M when they sleep (the test runs under
  // either policy: ctest sets none, CI may set OMP_WAIT_POLICY=passive).
  const std::string path = ModelPath();
  auto b = OpenOnednnBackend(path, {.threads = 2});
  ASSERT_TRUE(b.ok());
  const std::string d = (*b)->Details();
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  if (policy && strcasecmp(policy, "passive") == 0) {
    EXPECT_NE(d.find("serial_macs=8388608 omp_wait=passive"), std::string::npos) << d;
  } else if (!std::getenv("GOMP_SPINCOUNT")) {
    EXPECT_NE(d.find("serial_macs=0 omp_wait=spin"), std::string::npos) << d;
  }
  // An explicit threshold wins over the policy.
  auto fixed = OpenOnednnBackend(path, {.threads = 2, .serial_conv_macs = 12345});
  ASSERT_TRUE(fixed.ok());
  EXPECT_NE((*fixed)->Details().find("serial_macs=12345 "), std::string::npos)
      << (*fixed)->Details();
}

TEST(OneDnnThreads, OptionsReachTheCompiler) {
  const std::string path = ModelPath();
  auto nhwc = OpenOnednnBackend(path, {.threads = 2, .block = 0});
  ASSERT_TRUE(nhwc.ok());
  EXPECT_NE((*nhwc)->Details().find("layout=nhwc"), std::string::npos) << (*nhwc)->Details();
  auto parallel = OpenOnednnBackend(path, {.threads = 2, .serial_conv_macs = 0, .serial_bytes = 0});
  ASSERT_TRUE(parallel.ok());
  EXPECT_NE((*parallel)->Details().find("serial_steps=0"), std::string::npos)
      << (*parallel)->Details();
  auto serial = OpenOnednnBackend(
      path, {.threads = 2, .serial_conv_macs = int64_t{1} << 40, .serial_bytes = int64_t{1} << 40});
  ASSERT_TRUE(serial.ok());
  EXPECT_EQ((*serial)->Details().find("serial_steps=0"), std::string::npos) << (*serial)->Details();
}

TEST(OneDnnThreads, ProfileAndTuningOptions) {
  const std::string path = ModelPath();
  auto prof = OpenOnednnBackend(path, {.threads = 2, .profile = true, .tune = true});
  auto plain = OpenOnednnBackend(path, {.threads = 2});
  ASSERT_TRUE(prof.ok() && plain.ok());
  std::vector<float> in = testing::RandomVector(3 * 96 * 64, 5);
  const size_t n = NumElements((*prof)->Info().output_shape);
  std::vector<float> a(n), b(n);
  EXPECT_EQ((*prof)->Details().find("profile:"), std::string::npos);  // nothing timed yet
  for (int k = 0; k < 2; ++k) ASSERT_TRUE((*prof)->Run(in.data(), a.data()).ok());
  ASSERT_TRUE((*plain)->Run(in.data(), b.data()).ok());
  const std::string d = (*prof)->Details();
  EXPECT_NE(d.find("profile: runs=2 total_ms="), std::string::npos) << d;
  EXPECT_NE(d.find("| conv("), std::string::npos) << d;
  EXPECT_NE(d.find("GFLOP/s"), std::string::npos) << d;
  EXPECT_NE(d.find("| tuning: [tune "), std::string::npos) << d;  // candidates were timed
  EXPECT_EQ((*plain)->Details().find("profile:"), std::string::npos);
  // Another implementation of the same convolution: equal within float rounding.
  for (size_t k = 0; k < n; ++k)
    ASSERT_LE(std::fabs(a[k] - b[k]), 1e-4 * std::max(1.f, std::fabs(b[k]))) << k;
}

}  // namespace
}  // namespace vqi::infer::onednn
