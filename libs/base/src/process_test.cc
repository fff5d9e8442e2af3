// RunProcess: output capture and caps, environment and working directory, exit codes and
// signals, timeouts that kill the whole process group, programs that cannot start.
#include "vqi/base/process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

namespace vqi {
namespace {

Result<ProcessResult> Sh(const std::string& script, ProcessOptions o = {}) {
  o.argv = {"sh", "-c", script};
  return RunProcess(o);
}

TEST(Process, CapturesStdoutStderrAndExitCode) {
  auto r = Sh("echo out; echo err >&2; exit 3");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->signal, 0);
}

TEST(Process, StdinLargerThanAPipeDoesNotDeadlock) {
  ProcessOptions o;
  o.stdin_data = std::string(1 << 20, 'x');
  auto r = Sh("cat", o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out.size(), 1u << 20);
  EXPECT_TRUE(r->ok());
}

TEST(Process, OutputIsCappedNotUnbounded) {
  ProcessOptions o;
  o.max_output_bytes = 1000;
  auto r = Sh("head -c 5000000 /dev/zero", o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out.size(), 1000u);
  EXPECT_TRUE(r->out_truncated);
  EXPECT_EQ(r->exit_code, 0);
}

TEST(Process, EnvironmentAndWorkingDirectory) {
  ProcessOptions o;
  o.env = {"VQI_PROCESS_TEST=hello"};
  o.working_dir = "/tmp";
  auto r = Sh("echo \"$VQI_PROCESS_TEST $(pwd)\"", o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out, "hello /tmp\n");
  o.inherit_env = false;
  o.env = {"ONLY=1", "PATH=/usr/bin:/bin"};
  auto clean = Sh("env | sort", o);
  ASSERT_TRUE(clean.ok());
  EXPECT_EQ(clean->out.find("HOME="), std::string::npos) << clean->out;
}

TEST(Process, TimeoutKillsTheWholeGroup) {
  std::string marker =
      std::filesystem::temp_directory_path() / ("vqi_proc_" + std::to_string(getpid()));
  std::filesystem::remove(marker);
  ProcessOptions o;
  o.timeout_seconds = 0.3;
  auto t0 = std::chrono::steady_clock::now();
  // The grandchild would write the marker after 1 s if it survived its parent's timeout.
  auto r = Sh("(sleep 1; touch " + marker + ") & sleep 30", o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->signal, SIGKILL);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_FALSE(std::filesystem::exists(marker)) << "a grandchild outlived the timeout";
}

TEST(Process, CancelStopsIt) {
  std::atomic<bool> cancel{false};
  ProcessOptions o;
  o.cancel = &cancel;
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel = true;
  });
  auto r = Sh("sleep 30", o);
  t.join();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->cancelled);
}

TEST(Process, MissingProgramAndBadDirectoryAreErrors) {
  ProcessOptions o;
  o.argv = {"/nonexistent/program"};
  auto r = RunProcess(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("/nonexistent/program"), std::string::npos);
  o.argv = {"true"};
  o.working_dir = "/nonexistent/dir";
  auto d = RunProcess(o);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("/nonexistent/dir"), std::string::npos);
  o.argv = {};
  EXPECT_EQ(RunProcess(o).status().code(), StatusCode::kInvalidArgument);
}

TEST(Process, KilledBySignalIsReported) {
  auto r = Sh("kill -TERM $$");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->signal, SIGTERM);
  EXPECT_EQ(r->exit_code, -1);
}

}  // namespace
}  // namespace vqi
