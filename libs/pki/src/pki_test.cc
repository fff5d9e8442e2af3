#include "vqi/pki/pki.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <atomic>
#include <ctime>
#include <filesystem>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "vqi/base/file.h"

namespace vqi::pki {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "vqi-pki-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

unsigned Mode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

X509* ParseCert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return x;
}

std::string Cn(X509* x) {
  char buf[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, sizeof buf);
  return buf;
}

class PkiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ca = CreateCa(dir_.path() + "/pki", "vqi test CA");
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    ca_ = *ca;
  }
  Issued Issue(const std::string& cn, CertKind kind = CertKind::kClient, int days = 30) {
    IssueRequest r;
    r.common_name = cn;
    r.kind = kind;
    r.days = days;
    if (kind == CertKind::kServer) {
      r.dns_names = {"localhost"};
      r.ip_addresses = {"127.0.0.1", "::1"};
    }
    auto issued = IssueCertificate(ca_, r);
    EXPECT_TRUE(issued.ok()) << issued.status().ToString();
    return issued.ok() ? *issued : Issued{};
  }
  TempDir dir_;
  Ca ca_;
};

TEST_F(PkiTest, CreateCaWritesPrivateStateAndRefusesASecondCa) {
  const std::string d = ca_.dir;
  EXPECT_EQ(Mode(d), 0700u);
  EXPECT_EQ(Mode(d + "/ca.key"), 0600u);
  EXPECT_TRUE(FileExists(d + "/ca.pem"));
  EXPECT_TRUE(FileExists(d + "/crl.pem"));  // the broker can start with crlfile at once
  auto again = CreateCa(d, "other");
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  EXPECT_TRUE(OpenCa(d).ok());
  EXPECT_EQ(OpenCa(dir_.path() + "/nothing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(CreateCa(dir_.path() + "/x", "bad/name").status().code(), StatusCode::kInvalidArgument);

  X509* ca = ParseCert(*ReadFile(ca_.CertPath()));
  ASSERT_NE(ca, nullptr);
  EXPECT_EQ(Cn(ca), "vqi test CA");
  EXPECT_EQ(X509_check_ca(ca), 1);
  EXPECT_EQ(EVP_PKEY_get_base_id(X509_get0_pubkey(ca)), EVP_PKEY_EC);
  X509_free(ca);
}

TEST_F(PkiTest, ClientCertificateProfileAndVerifyPeer) {
  Issued dev = Issue("cam-01");
  X509* x = ParseCert(dev.cert_pem);
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(Cn(x), "cam-01");
  EXPECT_EQ(X509_check_purpose(x, X509_PURPOSE_SSL_CLIENT, 0), 1);
  EXPECT_NE(X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0), 1);
  EXPECT_EQ(X509_get_ext_by_NID(x, NID_subject_alt_name, -1), -1);
  BIO* bio = BIO_new_mem_buf(dev.key_pem.data(), static_cast<int>(dev.key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(X509_check_private_key(x, key), 1);
  EVP_PKEY_free(key);
  X509_free(x);

  auto peer = VerifyPeer(ca_, dev.cert_pem, {CertKind::kClient});
  ASSERT_TRUE(peer.ok()) << peer.status().ToString();
  EXPECT_EQ(peer->common_name, "cam-01");
  EXPECT_EQ(peer->serial, dev.serial);
  auto as_server = VerifyPeer(ca_, dev.cert_pem, {CertKind::kServer});
  EXPECT_EQ(as_server.status().code(), StatusCode::kPermissionDenied);

  auto list = ListCertificates(ca_);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].serial, dev.serial);
  EXPECT_EQ((*list)[0].kind, CertKind::kClient);
}

TEST_F(PkiTest, ServerCertificateCarriesSans) {
  Issued srv = Issue("vqi-server", CertKind::kServer);
  X509* x = ParseCert(srv.cert_pem);
  ASSERT_NE(x, nullptr);
  EXPECT_EQ(X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0), 1);
  EXPECT_EQ(X509_check_host(x, "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(x, "::1", 0), 1);
  EXPECT_NE(X509_check_host(x, "evil.example", 0, 0, nullptr), 1);
  X509_free(x);
  EXPECT_TRUE(VerifyPeer(ca_, srv.cert_pem, {CertKind::kServer}).ok());
  // A device can never take the server's CN (and broker identity), nor the reverse.
  IssueRequest r{"vqi-server", CertKind::kClient, {}, {}, 30};
  EXPECT_EQ(IssueCertificate(ca_, r).status().code(), StatusCode::kAlreadyExists);
  Issue("cam-01");
  IssueRequest s{"cam-01", CertKind::kServer, {"localhost"}, {}, 30};
  EXPECT_EQ(IssueCertificate(ca_, s).status().code(), StatusCode::kAlreadyExists);
}

TEST_F(PkiTest, HostileRequestsAreRefusedAndNothingIsRecorded) {
  std::vector<std::string> names = {"",
                                    "a/b",
                                    "dev+",
                                    "#",
                                    "a b",
                                    "-dev",
                                    "x\n",
                                    "../x",
                                    "dev\0x",
                                    "caf\xc3\xa9",
                                    std::string(129, 'a')};
  names[8] = std::string("dev\0x", 5);  // an embedded NUL
  for (const auto& n : names) {
    IssueRequest r{n, CertKind::kClient, {}, {}, 30};
    auto out = IssueCertificate(ca_, r);
    EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument) << n;
  }
  auto refused = [&](IssueRequest r, const char* field) {
    auto out = IssueCertificate(ca_, r);
    EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument) << field;
    EXPECT_NE(out.status().message().find(field), std::string::npos) << out.status().message();
  };
  // A comma would smuggle another SAN into the extension string.
  refused({"srv", CertKind::kServer, {"localhost,DNS:evil.example"}, {}, 30}, "dns_names[0]");
  refused({"srv", CertKind::kServer, {"a..b"}, {}, 30}, "dns_names[0]");
  refused({"srv", CertKind::kServer, {}, {"999.1.1.1"}, 30}, "ip_addresses[0]");
  refused({"srv", CertKind::kServer, {}, {"127.0.0.1,IP:10.0.0.1"}, 30}, "ip_addresses[0]");
  refused({"dev", CertKind::kClient, {"localhost"}, {}, 30}, "dns_names");
  refused({"dev", CertKind::kClient, {}, {}, 0}, "days");
  refused({"dev", CertKind::kClient, {}, {}, kMaxDays + 1}, "days");
  auto list = ListCertificates(ca_);
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->empty());
}

TEST_F(PkiTest, SerialsAreNeverReused) {
  std::set<std::string> serials;
  for (int i = 0; i < 20; ++i) serials.insert(Issue("dev-" + std::to_string(i % 3)).serial);
  EXPECT_EQ(serials.size(), 20u);
}

TEST_F(PkiTest, ConcurrentIssuersLoseNoRecord) {
  // Every change to the index is serialised by the CA's flock (also across processes).
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 8; ++i) {
        auto out = IssueCertificate(
            ca_,
            {"dev-" + std::to_string(t) + "-" + std::to_string(i), CertKind::kClient, {}, {}, 30});
        if (!out.ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto list = ListCertificates(ca_);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->size(), 32u);
  std::set<std::string> serials;
  for (const auto& r : *list) serials.insert(r.serial);
  EXPECT_EQ(serials.size(), 32u);
}

TEST_F(PkiTest, RevokedCertificateFailsVerifyPeerAndIsInTheCrl) {
  Issued a = Issue("cam-a");
  Issued a2 = Issue("cam-a");
  Issued b = Issue("cam-b");
  auto revoked = Revoke(ca_, "cam-a", RevocationReason::kKeyCompromise);
  ASSERT_TRUE(revoked.ok()) << revoked.status().ToString();
  EXPECT_EQ(revoked->size(), 2u);  // every certificate of the thing
  Issued c = Issue("cam-c");
  std::string upper = "00" + c.serial;  // as openssl prints it: upper case, zero-padded
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  auto by_serial = Revoke(ca_, upper, RevocationReason::kSuperseded);
  ASSERT_TRUE(by_serial.ok()) << by_serial.status().ToString();
  ASSERT_EQ(by_serial->size(), 1u);
  EXPECT_EQ((*by_serial)[0], c.serial);
  auto again = Revoke(ca_, a.serial, RevocationReason::kKeyCompromise);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
  EXPECT_EQ(Revoke(ca_, "nobody", RevocationReason::kUnspecified).status().code(),
            StatusCode::kNotFound);

  auto va = VerifyPeer(ca_, a.cert_pem);
  EXPECT_EQ(va.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(va.status().message().find("revoked"), std::string::npos) << va.status().message();
  EXPECT_EQ(VerifyPeer(ca_, a2.cert_pem).status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(VerifyPeer(ca_, b.cert_pem).ok());

  ASSERT_TRUE(WriteCrl(ca_).ok());
  // The CRL as an independent verifier (and Mosquitto's crlfile) reads it.
  std::string crl_pem = *ReadFile(ca_.CrlPath());
  BIO* bio = BIO_new_mem_buf(crl_pem.data(), static_cast<int>(crl_pem.size()));
  X509_CRL* crl = PEM_read_bio_X509_CRL(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(crl, nullptr);
  X509* ca_cert = ParseCert(*ReadFile(ca_.CertPath()));
  EXPECT_EQ(X509_CRL_verify(crl, X509_get0_pubkey(ca_cert)), 1);
  EXPECT_EQ(sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl)), 3);
  auto verify_with_crl = [&](const std::string& pem) {
    X509* leaf = ParseCert(pem);
    X509_STORE* store = X509_STORE_new();
    X509_STORE_add_cert(store, ca_cert);
    X509_STORE_add_crl(store, crl);
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, store, leaf, nullptr);
    int ok = X509_verify_cert(ctx);
    int err = X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(leaf);
    return ok == 1 ? 0 : err;
  };
  EXPECT_EQ(verify_with_crl(a.cert_pem), X509_V_ERR_CERT_REVOKED);
  EXPECT_EQ(verify_with_crl(b.cert_pem), 0);
  X509_CRL_free(crl);
  X509_free(ca_cert);
}

TEST_F(PkiTest, ExpiredNotYetValidForeignAndGarbageAreRefused) {
  Issued dev = Issue("cam-01", CertKind::kClient, 1);
  const int64_t now = std::time(nullptr);
  VerifyOptions later;
  later.at_unix = now + 2 * 86400;
  auto expired = VerifyPeer(ca_, dev.cert_pem, later);
  EXPECT_EQ(expired.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(expired.status().message().find("expired"), std::string::npos)
      << expired.status().message();
  VerifyOptions earlier;
  earlier.at_unix = now - 86400;
  EXPECT_EQ(VerifyPeer(ca_, dev.cert_pem, earlier).status().code(), StatusCode::kPermissionDenied);

  TempDir other;
  auto foreign_ca = CreateCa(other.path() + "/pki", "other");
  ASSERT_TRUE(foreign_ca.ok());
  auto foreign = IssueCertificate(*foreign_ca, {"cam-01", CertKind::kClient, {}, {}, 30});
  ASSERT_TRUE(foreign.ok());
  EXPECT_EQ(VerifyPeer(ca_, foreign->cert_pem).status().code(), StatusCode::kPermissionDenied);

  EXPECT_EQ(VerifyPeer(ca_, "garbage").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyPeer(ca_, std::string(kMaxCertPemBytes + 1, 'A')).status().code(),
            StatusCode::kResourceExhausted);
}

TEST_F(PkiTest, CertificateMissingFromTheIndexIsRefused) {
  const std::string before = *ReadFile(ca_.dir + "/index.json");
  Issued dev = Issue("cam-01");
  ASSERT_TRUE(WriteFileAtomic(ca_.dir + "/index.json", before).ok());  // the record is lost
  auto v = VerifyPeer(ca_, dev.cert_pem);
  EXPECT_EQ(v.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(v.status().message().find("not in this CA's index"), std::string::npos);
}

TEST_F(PkiTest, DamagedIndexIsDataLossAndNothingIsIssued) {
  ASSERT_TRUE(WriteFileAtomic(ca_.dir + "/index.json", "{\"format\": 3").ok());
  auto out = IssueCertificate(ca_, {"cam-01", CertKind::kClient, {}, {}, 30});
  EXPECT_EQ(out.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(OpenCa(ca_.dir).status().code(), StatusCode::kDataLoss);
}

TEST_F(PkiTest, WriteIssuedKeepsTheKeyPrivate) {
  Issued dev = Issue("cam-01");
  const std::string out = dir_.path() + "/bundle";
  ASSERT_TRUE(WriteIssued(out, dev).ok());
  EXPECT_EQ(Mode(out), 0700u);
  EXPECT_EQ(Mode(out + "/key.pem"), 0600u);
  EXPECT_EQ(*ReadFile(out + "/key.pem"), dev.key_pem);
  EXPECT_EQ(*ReadFile(out + "/cert.pem"), dev.cert_pem);
  ASSERT_TRUE(WriteIssued(out, Issue("cam-01")).ok());  // re-issue replaces atomically
  EXPECT_EQ(Mode(out + "/key.pem"), 0600u);
}

TEST(PkiReasonTest, ParseReason) {
  EXPECT_EQ(*ParseReason("keyCompromise"), RevocationReason::kKeyCompromise);
  EXPECT_EQ(ParseReason("bogus").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vqi::pki
