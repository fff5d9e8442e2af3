// The agent bundle: files, permissions, agent.json, refusals.
#include "vqi/fleet/bundle.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "vqi/base/file.h"

namespace vqi::fleet {
namespace {

namespace fs = std::filesystem;

class BundleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (fs::temp_directory_path() / "vqi-bundle-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    dir_ = t;
    b_.thing = "cam-1";
    b_.broker = "127.0.0.1:8883";
    b_.server = "https://127.0.0.1:8443";
    b_.token = "vqi_0123456789ab_" + std::string(64, 'f');
    b_.ca_pem = "-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n";
    b_.cert_pem = "-----BEGIN CERTIFICATE-----\ncert\n-----END CERTIFICATE-----\n";
    b_.key_pem = "-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n";
    b_.trusted_keys["acme"] = "vqi-ed25519 acme 00ff\n";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  static unsigned Mode(const std::string& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 0777;
  }
  std::string dir_;
  AgentBundle b_;
};

TEST_F(BundleTest, WritesEveryFile) {
  const std::string out = dir_ + "/bundles/cam-1";
  ASSERT_TRUE(WriteAgentBundle(out, b_).ok());
  EXPECT_EQ(Mode(out), 0700u);
  EXPECT_EQ(Mode(out + "/key.pem"), 0600u);
  EXPECT_EQ(Mode(out + "/agent.json"), 0600u);
  EXPECT_EQ(*ReadFile(out + "/key.pem"), b_.key_pem);
  EXPECT_EQ(*ReadFile(out + "/cert.pem"), b_.cert_pem);
  EXPECT_EQ(*ReadFile(out + "/ca.pem"), b_.ca_pem);
  EXPECT_EQ(*ReadFile(out + "/trusted-keys/acme.pub"), b_.trusted_keys["acme"]);
  auto j = ReadJsonFile(out + "/agent.json");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)["thing"], "cam-1");
  EXPECT_EQ((*j)["broker"], "127.0.0.1:8883");
  EXPECT_EQ((*j)["server"], "https://127.0.0.1:8443");
  EXPECT_EQ((*j)["token"], b_.token);
  // Never overwritten.
  EXPECT_EQ(WriteAgentBundle(out, b_).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ + "/bundles"), fs::directory_iterator()), 1);
}

TEST_F(BundleTest, Refusals) {
  const std::string out = dir_ + "/b";
  AgentBundle b = b_;
  b.broker = "localhost";
  EXPECT_NE(WriteAgentBundle(out, b).message().find("broker: 'localhost' is not host:port"),
            std::string::npos);
  b.broker = "h:99999";
  EXPECT_FALSE(WriteAgentBundle(out, b).ok());
  b = b_;
  b.server = "ftp://x";
  EXPECT_NE(WriteAgentBundle(out, b).message().find("server:"), std::string::npos);
  b = b_;
  b.key_pem = "secret";
  EXPECT_NE(WriteAgentBundle(out, b).message().find("key.pem: not PEM text"), std::string::npos);
  b = b_;
  b.token.clear();
  EXPECT_FALSE(WriteAgentBundle(out, b).ok());
  b = b_;
  b.trusted_keys["../evil"] = "x";
  EXPECT_NE(WriteAgentBundle(out, b).message().find("trusted key name '../evil'"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace vqi::fleet
