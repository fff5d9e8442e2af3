#include "vqi/transport/broker_config.h"

#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace vqi::transport {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool Has(const std::string& text, const std::string& line) {
  for (const auto& l : Lines(text))
    if (l == line) return true;
  return false;
}

TEST(BrokerConfigTest, ConfRequiresCertificatesAndNamesEveryFile) {
  BrokerConfig c;
  c.port = 18883;
  c.ca_file = "/h/pki/ca.pem";
  c.server_cert_file = "/h/broker/cert.pem";
  c.server_key_file = "/h/broker/key.pem";
  c.crl_file = "/h/pki/crl.pem";
  c.acl_file = "/h/broker/acl";
  c.persistence_dir = "/h/broker";
  const std::string conf = MosquittoConf(c);
  for (const char* line :
       {"allow_anonymous false", "listener 18883 127.0.0.1", "cafile /h/pki/ca.pem",
        "certfile /h/broker/cert.pem", "keyfile /h/broker/key.pem", "crlfile /h/pki/crl.pem",
        "require_certificate true", "use_identity_as_username true", "acl_file /h/broker/acl",
        "persistence true", "persistence_location /h/broker/"})
    EXPECT_TRUE(Has(conf, line)) << line << "\n" << conf;
  EXPECT_FALSE(Has(conf, "user root"));
  c.run_as_root = true;
  EXPECT_TRUE(Has(MosquittoConf(c), "user root"));
  c.persistence_dir = "";
  EXPECT_FALSE(Has(MosquittoConf(c), "persistence true"));
}

TEST(BrokerConfigTest, AclGivesDevicesOnlyTheirOwnTopics) {
  BrokerConfig c;
  const std::string acl = MosquittoAcl(c);
  EXPECT_TRUE(Has(acl, "pattern read vqi/v1/things/%u/desired"));
  EXPECT_TRUE(Has(acl, "pattern write vqi/v1/things/%u/status"));
  EXPECT_TRUE(Has(acl, "pattern write vqi/v1/results/%u/#"));
  EXPECT_TRUE(Has(acl, "user vqi-server"));
  EXPECT_TRUE(Has(acl, "topic readwrite vqi/#"));
  // No device-wide grant: every pattern is scoped by %u.
  for (const auto& line : Lines(acl)) {
    if (line.rfind("pattern ", 0) == 0) {
      EXPECT_NE(line.find("/%u/"), std::string::npos) << line;
    }
  }
}

}  // namespace
}  // namespace vqi::transport
