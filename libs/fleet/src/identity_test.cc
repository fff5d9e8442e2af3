#include "vqi/fleet/identity.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <thread>

#include "vqi/base/file.h"
#include "vqi/pki/pki.h"

namespace vqi::fleet {
namespace {

class IdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (std::filesystem::temp_directory_path() / "vqi-ident-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    home_ = t;
  }
  void TearDown() override { std::filesystem::remove_all(home_); }
  std::string home_;
};

TEST_F(IdentityTest, ClientIdentityIsIssuedOnceAndReissuedWhenRevoked) {
  auto a = EnsureClientIdentity(home_, "vqi-server");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->cert_file, home_ + "/pki/identities/vqi-server.pem");
  EXPECT_EQ(a->key_file, home_ + "/pki/identities/vqi-server.key");
  struct stat st {};
  ASSERT_EQ(::stat(a->key_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string first = *ReadFile(a->cert_file);
  auto again = EnsureClientIdentity(home_, "vqi-server");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*ReadFile(again->cert_file), first);  // reused
  auto ca = pki::OpenCa(pki::CaDir(home_));
  ASSERT_TRUE(ca.ok());
  ASSERT_TRUE(pki::Revoke(*ca, "vqi-server", pki::RevocationReason::kSuperseded).ok());
  auto renewed = EnsureClientIdentity(home_, "vqi-server");
  ASSERT_TRUE(renewed.ok());
  const std::string second = *ReadFile(renewed->cert_file);
  EXPECT_NE(second, first);
  EXPECT_TRUE(pki::VerifyPeer(*ca, second, {pki::CertKind::kClient, 0}).ok());
  // A half-written pair (marker gone) is never reused.
  std::filesystem::remove(home_ + "/pki/identities/vqi-server.serial");
  auto third = EnsureClientIdentity(home_, "vqi-server");
  ASSERT_TRUE(third.ok());
  EXPECT_NE(*ReadFile(third->cert_file), second);
}

TEST_F(IdentityTest, ServerTlsFollowsTheBindAddress) {
  auto a = EnsureServerTls(home_, "127.0.0.1");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->cert_file, home_ + "/server/tls/server.pem");
  auto ca = pki::OpenCa(pki::CaDir(home_));
  ASSERT_TRUE(ca.ok());
  EXPECT_TRUE(pki::VerifyPeer(*ca, *ReadFile(a->cert_file), {pki::CertKind::kServer, 0}).ok());
  const std::string first = *ReadFile(a->cert_file);
  EXPECT_EQ(*ReadFile(EnsureServerTls(home_, "127.0.0.1")->cert_file), first);
  // Another bind address needs another SAN: a new certificate.
  auto b = EnsureServerTls(home_, "10.1.2.3");
  ASSERT_TRUE(b.ok());
  EXPECT_NE(*ReadFile(b->cert_file), first);
  EXPECT_NE(ReadFile(home_ + "/server/tls/issued.txt")->find("10.1.2.3"), std::string::npos);
}

// `vqi broker run` and `vqi server` starting together on a fresh home both create the CA on
// first use: one creates it, the other opens it; both get certificates of the same CA.
TEST_F(IdentityTest, ConcurrentFirstUseSharesOneCa) {
  Status a, b;
  std::thread t1([&] { a = EnsureClientIdentity(home_, "vqi-server").status(); });
  std::thread t2([&] { b = EnsureServerTls(home_, "127.0.0.1").status(); });
  t1.join();
  t2.join();
  ASSERT_TRUE(a.ok()) << a.ToString();
  ASSERT_TRUE(b.ok()) << b.ToString();
  auto ca = pki::OpenCa(pki::CaDir(home_));
  ASSERT_TRUE(ca.ok());
  EXPECT_TRUE(pki::VerifyPeer(*ca, *ReadFile(home_ + "/pki/identities/vqi-server.pem"),
                              {pki::CertKind::kClient, 0})
                  .ok());
  EXPECT_TRUE(
      pki::VerifyPeer(*ca, *ReadFile(home_ + "/server/tls/server.pem"), {pki::CertKind::kServer, 0})
          .ok());
}

}  // namespace
}  // namespace vqi::fleet
