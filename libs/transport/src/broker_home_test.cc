// PrepareBroker: the CA on first use, the broker certificate issued once and re-issued when
// needed (other names, revoked, expiring), the generated files, refused options.
#include <sys/stat.h>

#include <string>

#include "broker_service_test_fixture.h"
#include "vqi/base/file.h"
#include "vqi/pki/pki.h"

namespace vqi::transport {
namespace {

mode_t Mode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

TEST_F(BrokerServiceTest, PrepareCreatesTheCaOnceAndIssuesTheCertificateOnlyWhenNeeded) {
  auto first = PrepareBroker(Options());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->ca_created);
  EXPECT_TRUE(first->cert_issued);
  const BrokerLayout& l = first->layout;
  EXPECT_EQ(Mode(l.dir), 0700u);
  EXPECT_EQ(Mode(l.tls_dir), 0700u);
  EXPECT_EQ(Mode(l.key), 0600u);
  EXPECT_TRUE(FileExists(l.crl));
  auto conf = ReadFile(l.conf);
  ASSERT_TRUE(conf.ok());
  EXPECT_NE(conf->find("listener 18830 127.0.0.1\n"), std::string::npos) << *conf;
  EXPECT_NE(conf->find("crlfile " + home_ + "/pki/crl.pem\n"), std::string::npos);
  EXPECT_NE(conf->find("certfile " + l.cert + "\n"), std::string::npos);
  EXPECT_NE(conf->find("persistence_location " + l.persistence + "/\n"), std::string::npos);
  EXPECT_TRUE(FileExists(l.acl));

  auto ca = pki::OpenCa(pki::CaDir(home_));
  ASSERT_TRUE(ca.ok());
  auto pem = ReadFile(l.cert);
  ASSERT_TRUE(pem.ok());
  pki::VerifyOptions v;
  v.expect_kind = pki::CertKind::kServer;
  auto rec = pki::VerifyPeer(*ca, *pem, v);
  ASSERT_TRUE(rec.ok()) << rec.status().ToString();
  EXPECT_EQ(rec->common_name, kBrokerIdentity);
  EXPECT_EQ(rec->serial, first->cert_serial);

  // Again: same CA, same certificate.
  auto second = PrepareBroker(Options());
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(second->ca_created);
  EXPECT_FALSE(second->cert_issued);

  // Another bind address needs another SAN; a revoked certificate is replaced; so is one that
  // expires within the renewal window.
  BrokerHomeOptions other = Options();
  other.bind = "127.0.0.2";
  auto third = PrepareBroker(other);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_TRUE(third->cert_issued);
  ASSERT_TRUE(pki::Revoke(*ca, third->cert_serial, pki::RevocationReason::kKeyCompromise).ok());
  auto fourth = PrepareBroker(other);
  ASSERT_TRUE(fourth.ok());
  EXPECT_TRUE(fourth->cert_issued);
  EXPECT_NE(fourth->cert_serial, third->cert_serial);
  other.extra_sans = {"broker.example", "10.1.2.3", "127.0.0.2"};  // the last: already in
  auto named = PrepareBroker(other);
  ASSERT_TRUE(named.ok()) << named.status().ToString();
  EXPECT_TRUE(named->cert_issued);
  auto info = ReadFile(named->layout.cert_info);
  ASSERT_TRUE(info.ok());
  EXPECT_NE(info->find("broker.example"), std::string::npos) << *info;
  EXPECT_NE(info->find("10.1.2.3"), std::string::npos) << *info;
  auto same = PrepareBroker(other);
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->cert_issued);
  other.renew_days = 364;  // the 365-day certificate is still valid at now + 364 days
  other.cert_days = 365;
  auto fifth = PrepareBroker(other);
  ASSERT_TRUE(fifth.ok());
  EXPECT_FALSE(fifth->cert_issued);  // valid for 365 days > 364
  other.cert_days = 400;
  other.renew_days = 366;
  auto sixth = PrepareBroker(other);
  ASSERT_TRUE(sixth.ok());
  EXPECT_TRUE(sixth->cert_issued);  // the 365-day certificate fails at now + 366 days
}

TEST_F(BrokerServiceTest, BadOptionsAreRefusedNamingTheField) {
  BrokerHomeOptions o = Options();
  o.bind = "localhost\nlistener 1";
  auto r = PrepareBroker(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("bind:"), std::string::npos) << r.status().ToString();
  o = Options();
  o.port = 70000;
  r = PrepareBroker(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("port:"), std::string::npos);
  o = Options();
  o.extra_sans = {"bad name"};
  r = PrepareBroker(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("san: 'bad name'"), std::string::npos);
  EXPECT_FALSE(FileExists(home_ + "/pki"));  // nothing created for refused options
}

}  // namespace
}  // namespace vqi::transport
