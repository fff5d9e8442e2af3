// HTTPS to the real server: the device verifies the server with the vqi CA file and, when the
// server requires it, presents its client certificate (mutual TLS). Certificates come from a
// throwaway CA made with the openssl command line (as tests/server_test.cc does).
#include <cstdlib>

#include "fetch_test_env.h"
#include "gtest/gtest.h"
#include "vqi/base/file.h"

namespace vqi::agent {
namespace {

using testing::Bytes;

class FetchTlsTest : public testing::FetchTest {
 protected:
  void ConfigureServer(server::ServerOptions& o) override {
    tls_ = base_ + "/tls";
    ASSERT_TRUE(MakeDirs(tls_).ok());
    auto ca = [&](const std::string& n) {
      return "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "
             "/CN=" +
             n + " -keyout " + n + ".key -out " + n + ".pem 2>/dev/null";
    };
    auto cert = [&](const std::string& n, const std::string& cn, const std::string& ext) {
      return "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=" + cn +
             " -keyout " + n + ".key -out " + n + ".csr 2>/dev/null && printf '" + ext + "\\n' > " +
             n + ".cnf && openssl x509 -req -in " + n +
             ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile " + n + ".cnf -out " +
             n + ".pem 2>/dev/null";
    };
    const std::string script = "cd " + tls_ + " && " + ca("ca") + " && " + ca("other") + " && " +
                               cert("server", "127.0.0.1", "subjectAltName=IP:127.0.0.1") + " && " +
                               cert("device", "edge-1", "extendedKeyUsage=clientAuth");
    ASSERT_EQ(std::system(script.c_str()), 0);
    o.tls.cert_file = tls_ + "/server.pem";
    o.tls.key_file = tls_ + "/server.key";
    o.tls.client_ca_file = tls_ + "/ca.pem";  // mutual TLS
    scheme_ = "https";
  }
  std::string tls_;
};

TEST_F(FetchTlsTest, MutualTlsWithTheVqiCa) {
  Create("com.acme.inspect", "1.0.0", Bytes(1 << 20, 20));
  FetchOptions o = Options();
  o.http.ca_file = tls_ + "/ca.pem";
  o.http.client_cert_file = tls_ + "/device.pem";
  o.http.client_key_file = tls_ + "/device.key";
  auto f = Fetcher(o);
  auto c = f->Fetch("com.acme.inspect", "1.0.0");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(f->counters().bytes_downloaded, c->artifacts[0].size + c->artifacts[1].size);
  EXPECT_EQ(f->counters().requests, 3);

  // a device that trusts another CA refuses the server: not retried
  o.http.ca_file = tls_ + "/other.pem";
  auto g = Fetcher(o);
  c = g->Fetch("com.acme.inspect", "1.0.0");
  EXPECT_EQ(c.status().code(), StatusCode::kPermissionDenied) << c.status().ToString();
  EXPECT_NE(c.status().message().find("GET https://127.0.0.1:"), std::string::npos)
      << c.status().ToString();
  EXPECT_EQ(g->counters().retries, 0);

  // without a client certificate the server refuses the handshake
  o.http.ca_file = tls_ + "/ca.pem";
  o.http.client_cert_file.clear();
  o.http.client_key_file.clear();
  o.retry.attempts = 1;
  auto h = Fetcher(o);
  c = h->Fetch("com.acme.inspect", "1.0.0");
  EXPECT_FALSE(c.ok());
  EXPECT_EQ(h->counters().bytes_downloaded, 0);
}

TEST_F(FetchTlsTest, MissingTlsFilesAreRefusedAtCreate) {
  FetchOptions o = Options();
  o.http.ca_file = tls_ + "/nope.pem";
  auto f = ComponentFetcher::Create(o, {});
  EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(f.status().message().find("nope.pem"), std::string::npos);
  o.http.ca_file.clear();
  o.http.client_cert_file = tls_ + "/device.pem";
  f = ComponentFetcher::Create(o, {});
  EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument) << f.status().ToString();
}

}  // namespace
}  // namespace vqi::agent
