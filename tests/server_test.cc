// `vqi server` end to end over real HTTP on loopback (issue 18, acceptance 5): the real binary
// on a free port with a temporary home, tokens made with `vqi server token create`.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "run_vqi.h"
#include "server_process.h"
#include "test_http.h"
#include "vqi/base/hash.h"
#include "vqi/base/json.h"

namespace vqi {
namespace {

using testing::RunVqi;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::signal(SIGPIPE, SIG_IGN);  // httplib's clients write to sockets the server may close
    home_ = std::filesystem::temp_directory_path() /
            ("vqi_server_e2e_" + std::to_string(getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(home_);
  }
  void TearDown() override {
    std::filesystem::remove_all(home_);
    std::filesystem::remove(home_ + ".server.log");
  }

  std::string Token(const std::string& name, const std::string& scope) {
    auto r = RunVqi("--home " + home_ + " --json server token create --name " + name + " --scope " +
                    scope + " 2>/dev/null");
    EXPECT_EQ(r.code, 0) << r.out;
    auto j = Json::parse(r.out, nullptr, false);
    return j.is_object() ? j.value("token", "") : "";
  }
  httplib::Client Client(const std::string& token = "") {
    httplib::Client c("127.0.0.1", server_.port());
    if (!token.empty()) c.set_bearer_token_auth(token.c_str());
    c.set_read_timeout(30);
    c.set_write_timeout(10);
    return c;
  }

  std::string home_;
  testing::ServerProcess server_;
};

TEST_F(ServerTest, UploadThenDownloadWithRange) {
  const std::string w = Token("ci", "write");
  const std::string d = Token("edge-1", "device");
  ASSERT_TRUE(server_.Start(home_)) << server_.output();
  std::string bytes(3 << 20, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 2654435761u) >> 13);
  auto r = Client(w).Put("/v1/artifacts", bytes, "application/octet-stream");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  const std::string digest = Json::parse(r->body)["sha256"];
  EXPECT_EQ(digest, Sha256Hex(bytes));

  // a device resumes a download: the second half by Range
  r = Client(d).Get("/v1/artifacts/" + digest, {{"Range", "bytes=1572864-"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(
      r->get_header_value("Content-Range"),
      "bytes 1572864-" + std::to_string(bytes.size() - 1) + "/" + std::to_string(bytes.size()));
  EXPECT_TRUE(r->body == bytes.substr(1572864));
  r = Client(d).Get("/v1/artifacts/" + digest, {{"Range", "bytes=-100"}});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->body == bytes.substr(bytes.size() - 100));
  r = Client(d).Get("/v1/artifacts/" + digest, {{"If-None-Match", "\"" + digest + "\""}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 304);

  // `vqi store gc` keeps a fresh upload nothing references yet (the server's upload log)
  auto gc = RunVqi("--home " + home_ + " store gc");
  EXPECT_EQ(gc.code, 0) << gc.out;
  r = Client(d).Head("/v1/artifacts/" + digest);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << gc.out;
  EXPECT_EQ(server_.Stop(), 0);
}

// The shape `vqi model eval --report` writes (detect::EvaluationJson).
std::string EvalReport(double map50) {
  OrderedJson j;
  j["model"] = "model.onnx";
  j["source"] = {{"dataset", "metal"},
                 {"split", "s1"},
                 {"part", "test"},
                 {"split_digest", std::string(64, 'a')}};
  j["failed_images"] = 0;
  j["metrics"] = {
      {"images", 20},     {"map50", map50},
      {"map75", 0.4},     {"map50_95", 0.5},
      {"precision", 0.8}, {"recall", 0.75},
      {"f1", 0.77},       {"per_class", {{{"class_id", 0}, {"name", "scratch"}, {"ap50", map50}}}}};
  return j.dump(1);
}

// Acceptance 5: register -> approve -> package -> download with Range -> verify, over HTTP.
// The parts whose stores are not built into this vqi are skipped (the OpenAPI document says
// which routes exist).
TEST_F(ServerTest, RegisterApprovePackageDownloadVerify) {
  const std::string w = Token("ci", "write");
  const std::string r_tok = Token("viewer", "read");
  const std::string dev = Token("edge-1", "device");
  ASSERT_TRUE(server_.Start(home_)) << server_.output();
  auto doc = Client().Get("/v1/openapi.json");
  ASSERT_TRUE(doc);
  const Json paths = Json::parse(doc->body)["paths"];
  if (!paths.contains("/v1/models/{group}/versions"))
    GTEST_SKIP() << "vqi built without libs/registry";

  auto upload = [&](const std::string& bytes) {
    auto r = Client(w).Put("/v1/artifacts", bytes, "application/octet-stream");
    EXPECT_TRUE(r && (r->status == 201 || r->status == 200));
    return r ? Json::parse(r->body)["sha256"].get<std::string>() : std::string();
  };
  std::string model(2 << 20, '\0');
  for (size_t i = 0; i < model.size(); ++i) model[i] = static_cast<char>((i * 40503u) >> 7);
  const std::string model_d = upload(model);
  const std::string low_d = upload(EvalReport(0.71));
  const std::string good_d = upload(EvalReport(0.86));

  // the gate refuses the low report; nothing registered
  auto r = Client(w).Post("/v1/models/tags/versions",
                          Json{{"model", model_d}, {"report", low_d}, {"min_map50", 0.8}}.dump(),
                          "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409) << r->body;
  EXPECT_NE(r->body.find("below the gate"), std::string::npos) << r->body;
  // a read-only token may not register
  r = Client(r_tok).Post("/v1/models/tags/versions",
                         Json{{"model", model_d}, {"report", good_d}}.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  // registered
  r = Client(w).Post("/v1/models/tags/versions",
                     Json{{"model", model_d},
                          {"report", good_d},
                          {"min_map50", 0.8},
                          {"description", "first"},
                          {"lineage", {{"source_revision", "e63e5b4"}}}}
                         .dump(),
                     "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  Json v = Json::parse(r->body);
  EXPECT_EQ(v["version"], 1);
  bool model_listed = false;
  for (const Json& a : v["artifacts"])
    if (a["name"] == "model.onnx") model_listed = a["url"] == "/v1/artifacts/" + model_d;
  EXPECT_TRUE(model_listed) << r->body;
  EXPECT_EQ(v["status"], "PendingManualApproval");
  r = Client(r_tok).Get("/v1/models/tags/latest-approved");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404) << r->body;

  // approve: read-only refused, write accepted; an illegal transition is a conflict
  r = Client(r_tok).Post("/v1/models/tags/versions/1/approval", R"({"status": "Approved"})",
                         "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  r = Client(w).Post("/v1/models/tags/versions/1/approval",
                     R"({"status": "Approved", "reason": "mAP ok"})", "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json::parse(r->body)["status"], "Approved");
  r = Client(w).Post("/v1/models/tags/versions/1/approval",
                     R"({"status": "PendingManualApproval"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 409) << r->body;
  r = Client(r_tok).Get("/v1/models/tags/latest-approved");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json::parse(r->body)["version"], 1);
  r = Client(r_tok).Get("/v1/models/tags/versions/1/history");
  ASSERT_TRUE(r);
  EXPECT_EQ(Json::parse(r->body)["history"].size(), 2u);

  if (!paths.contains("/v1/components/from-model"))
    GTEST_SKIP() << "vqi built without libs/component";
  // package the latest approved model as a signed component (the server's publisher key)
  ASSERT_EQ(RunVqi("--home " + home_ + " key create server-key").code, 0);
  r = Client(w).Post("/v1/components/from-model",
                     Json{{"group", "tags"}, {"key", "server-key"}}.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  Json comp = Json::parse(r->body);
  const std::string name = comp["name"], version = comp["version"];
  // a device downloads the model artifact, resuming with Range
  std::string artifact_digest;
  for (const Json& a : comp["artifacts"])
    if (a["name"] == "model.onnx") artifact_digest = a["digest"];
  ASSERT_EQ(artifact_digest, model_d);
  r = Client(dev).Get("/v1/artifacts/" + artifact_digest, {{"Range", "bytes=1000000-"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_TRUE(r->body == model.substr(1000000));
  r = Client(dev).Get("/v1/components/" + name + "/versions/" + version);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  // verify: the signature and every artifact re-hashed
  r = Client(r_tok).Post("/v1/components/" + name + "/versions/" + version + "/verify", "",
                         "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json::parse(r->body)["verified"], true);

  // an inference component created over HTTP from a recipe with placeholders and an upload
  const std::string run_d = upload("#!/bin/sh\necho inspect\n");
  const std::string recipe = R"({
    "RecipeFormatVersion": "2020-01-25", "ComponentName": "com.acme.inspect",
    "ComponentVersion": "COMPONENT_VERSION", "ComponentPublisher": "Acme",
    "ComponentDependencies": {")" +
                             name +
                             R"(": {"VersionRequirement": ">=0.0.1", "DependencyType": "HARD"}},
    "Manifests": [{"Platform": {"os": "linux"}, "Lifecycle": {"run": "sh {artifacts:path}/run.sh"},
                   "Artifacts": [{"Uri": "s3://BUCKET_NAME/inspect/run.sh"}]}]})";
  r = Client(w).Post("/v1/components",
                     Json{{"recipe", recipe},
                          {"artifacts", {{"run.sh", run_d}}},
                          {"vars", {{"COMPONENT_VERSION", "1.0.0"}, {"BUCKET_NAME", "b"}}},
                          {"key", "server-key"}}
                         .dump(),
                     "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  EXPECT_EQ(Json::parse(r->body)["version"], "1.0.0");
  r = Client(dev).Post("/v1/components/com.acme.inspect/versions/1.0.0/verify", "",
                       "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(Json::parse(r->body)["verified"], true) << r->body;

  // tamper: a flipped byte in the stored model artifact is found and named
  const std::string blob = home_ + "/artifacts/" + model_d.substr(0, 2) + "/" + model_d;
  {
    std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(12345);
    f.put(static_cast<char>(model[12345] ^ 1));
  }
  r = Client(r_tok).Post("/v1/components/" + name + "/versions/" + version + "/verify", "",
                         "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json verdict = Json::parse(r->body);
  EXPECT_EQ(verdict["verified"], false);
  EXPECT_NE(verdict["error"]["message"].get<std::string>().find("model.onnx"), std::string::npos)
      << r->body;
  r = Client(r_tok).Post("/v1/components/nope/versions/1.0.0/verify", "", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(server_.Stop(), 0);
}

TEST_F(ServerTest, SigtermFinishesTheDownloadThenExitsZero) {
  const std::string w = Token("ci", "write");
  ASSERT_TRUE(server_.Start(home_)) << server_.output();
  std::string bytes(8 << 20, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 131);
  auto r = Client(w).Put("/v1/artifacts", bytes, "application/octet-stream");
  ASSERT_TRUE(r);
  const std::string digest = Json::parse(r->body)["sha256"];
  std::string got;
  bool signalled = false;
  r = Client(w).Get("/v1/artifacts/" + digest, [&](const char* data, size_t n) {
    got.append(data, n);
    if (!signalled) {
      signalled = true;
      ::kill(server_.pid(), SIGTERM);  // mid-transfer
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
    return true;
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(got == bytes) << got.size() << " of " << bytes.size() << " bytes";
  EXPECT_EQ(server_.Wait(30), 0);
}

TEST_F(ServerTest, WriteRoutesRefuseMissingAndReadOnlyTokens) {
  const std::string r_tok = Token("viewer", "read");
  ASSERT_TRUE(server_.Start(home_)) << server_.output();
  // every write route in the OpenAPI document, without a token and with a read-only one
  auto doc = Client().Get("/v1/openapi.json");
  ASSERT_TRUE(doc);
  const Json paths = Json::parse(doc->body)["paths"];
  int write_routes = 0;
  for (auto& [path, item] : paths.items()) {
    for (auto& [method, op] : item.items()) {
      const std::string access = op["x-vqi-access"];
      if (access != "write" && access != "admin") continue;
      ++write_routes;
      std::string url = path;
      for (size_t i; (i = url.find('{')) != std::string::npos;)
        url.replace(i, url.find('}', i) - i + 1, "x");
      for (const std::string& token : {std::string(), r_tok}) {
        auto c = Client(token);
        httplib::Result res = method == "get"    ? c.Get(url)
                              : method == "post" ? c.Post(url, "{}", "application/json")
                              : method == "put"  ? c.Put(url, "{}", "application/octet-stream")
                                                 : c.Delete(url);
        ASSERT_TRUE(res) << method << " " << url;
        EXPECT_EQ(res->status, token.empty() ? 401 : 403)
            << method << " " << url << ": " << res->body;
      }
    }
  }
  EXPECT_GE(write_routes, 3);
  // nothing was stored
  EXPECT_TRUE(
      !std::filesystem::exists(home_ + "/artifacts") ||
      std::filesystem::is_empty(home_ + "/artifacts") ||
      (std::filesystem::directory_iterator(home_ + "/artifacts")->path().filename() == "tmp"));
  EXPECT_EQ(server_.Stop(), 0);
}

TEST_F(ServerTest, GigabyteBodyIsRefusedWithoutBeingBuffered) {
  const std::string w = Token("ci", "write");
  const std::string a = Token("root", "admin");
  ASSERT_TRUE(server_.Start(home_)) << server_.output();
  const long rss_before = testing::RssKib(server_.pid());
  const std::string gib = std::to_string(int64_t{1} << 30);
  // the headers of a 1 GiB upload (over the default 4 GiB? no: raise it) and of a 1 GiB JSON
  // body; the body is never sent, so an answer proves the server did not wait for it
  for (const auto& [route, token] : {std::pair{std::string("POST /v1/tokens"), a},
                                     std::pair{std::string("PUT /v1/artifacts?x=1"), w}}) {
    auto r = server::testing::RawExchange(
        server_.port(), route + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token +
                            "\r\nContent-Type: application/json\r\nContent-Length: " +
                            (route.rfind("PUT", 0) == 0 ? std::to_string(int64_t{5} << 30) : gib) +
                            "\r\n\r\n");
    EXPECT_EQ(r.status, 413) << route << ": " << r.head;
    EXPECT_LT(r.seconds, 5.0);
    EXPECT_NE(r.body.find("payload_too_large"), std::string::npos);
  }
  // a client that sends the 1 GiB body anyway: refused, the connection closed long before the
  // end, and the server's memory does not grow by the body
  std::thread sender;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server_.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string head = "POST /v1/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + a +
                           "\r\nContent-Length: " + gib + "\r\n\r\n";
  ASSERT_EQ(::send(fd, head.data(), head.size(), MSG_NOSIGNAL), static_cast<ssize_t>(head.size()));
  timeval tv{5, 0};  // a server that neither reads nor closes must not hang the test
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int64_t sent = 0;
  int err = 0;
  std::string chunk(1 << 20, 'a');
  while (sent < (int64_t{1} << 30)) {
    const ssize_t n = ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      err = errno;
      break;
    }
    sent += n;
  }
  ::close(fd);
  EXPECT_LT(sent, int64_t{256} << 20) << "the server kept reading the refused body";
  EXPECT_TRUE(err == ECONNRESET || err == EPIPE)
      << "the server should close the connection: " << std::strerror(err);
  const long rss_after = testing::RssKib(server_.pid());
  EXPECT_LT(rss_after - rss_before, 64 * 1024)
      << "RSS grew from " << rss_before << " to " << rss_after << " KiB";
  auto h = Client().Get("/v1/health");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(server_.Stop(), 0);
}

TEST_F(ServerTest, TlsWithATestCa) {
  const std::string dir = home_ + "/tls";
  std::filesystem::create_directories(dir);
  // a CA and a server certificate for 127.0.0.1 signed by it (the "vqi CA" of a deployment)
  const std::string script =
      "cd " + dir +
      " && "
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
      "-subj /CN=vqi-test-ca -keyout ca.key -out ca.pem 2>/dev/null && "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 "
      "-keyout server.key -out server.csr 2>/dev/null && "
      "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > ext.cnf && "
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
      "-extfile ext.cnf -out server.pem 2>/dev/null";
  ASSERT_EQ(std::system(script.c_str()), 0);
  const std::string r_tok = Token("viewer", "read");
  ASSERT_TRUE(
      server_.Start(home_, {"--tls-cert", dir + "/server.pem", "--tls-key", dir + "/server.key"}))
      << server_.output();
  EXPECT_NE(server_.output().find("https://"), std::string::npos);

  httplib::SSLClient c("127.0.0.1", server_.port());
  c.set_ca_cert_path((dir + "/ca.pem").c_str());
  c.enable_server_certificate_verification(true);
  c.set_bearer_token_auth(r_tok.c_str());
  auto r = c.Get("/v1/datasets");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200) << r->body;
  r = c.Put("/v1/artifacts", "x", "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);

  // a client that does not trust the CA refuses the server
  httplib::SSLClient untrusting("127.0.0.1", server_.port());
  untrusting.set_ca_cert_path((dir + "/server.key").c_str());  // not a CA
  untrusting.enable_server_certificate_verification(true);
  EXPECT_FALSE(untrusting.Get("/v1/health"));
  // plain HTTP to the TLS port gets no HTTP answer
  httplib::Client plain("127.0.0.1", server_.port());
  plain.set_read_timeout(3);
  auto p = plain.Get("/v1/health");
  EXPECT_TRUE(!p || p->status != 200);
  EXPECT_EQ(server_.Stop(), 0);

  // mutual TLS: with --tls-client-ca, only clients holding a certificate the CA signed get in
  const std::string client_cert =
      "cd " + dir +
      " && "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=edge-1 "
      "-keyout client.key -out client.csr 2>/dev/null && "
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
      "-out client.pem 2>/dev/null";
  ASSERT_EQ(std::system(client_cert.c_str()), 0);
  testing::ServerProcess mtls;
  ASSERT_TRUE(mtls.Start(home_, {"--tls-cert", dir + "/server.pem", "--tls-key",
                                 dir + "/server.key", "--tls-client-ca", dir + "/ca.pem"}))
      << mtls.output();
  httplib::SSLClient with_cert("127.0.0.1", mtls.port(), dir + "/client.pem", dir + "/client.key");
  with_cert.set_ca_cert_path((dir + "/ca.pem").c_str());
  with_cert.enable_server_certificate_verification(true);
  auto ok = with_cert.Get("/v1/health");
  ASSERT_TRUE(ok) << httplib::to_string(ok.error());
  EXPECT_EQ(ok->status, 200);
  httplib::SSLClient without_cert("127.0.0.1", mtls.port());
  without_cert.set_ca_cert_path((dir + "/ca.pem").c_str());
  without_cert.enable_server_certificate_verification(true);
  auto refused = without_cert.Get("/v1/health");
  EXPECT_TRUE(!refused || refused->status != 200);
  EXPECT_EQ(mtls.Stop(), 0);
}

TEST_F(ServerTest, BadTlsFilesAreRefusedAtStart) {
  std::filesystem::create_directories(home_);
  const std::string junk = home_ + "/junk.pem";
  FILE* f = std::fopen(junk.c_str(), "w");
  std::fputs("not a certificate\n", f);
  std::fclose(f);
  auto r = RunVqi("--home " + home_ + " server --port 0 --tls-cert " + junk + " --tls-key " + junk);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("TLS certificate"), std::string::npos) << r.out;
  r = RunVqi("--home " + home_ + " server --port 0 --tls-cert " + junk);
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("--tls-key"), std::string::npos) << r.out;
  r = RunVqi("--home " + home_ + " server --port 70000");
  EXPECT_EQ(r.code, 2);
}

TEST_F(ServerTest, TokensFromTheCommandLine) {
  auto r = RunVqi("--home " + home_ + " server token create --name ci --scope write");
  ASSERT_EQ(r.code, 0) << r.out;
  r = RunVqi("--home " + home_ + " server token create --name ci --scope read");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("exists"), std::string::npos) << r.out;
  r = RunVqi("--home " + home_ + " server token create --name x --scope root");
  EXPECT_EQ(r.code, 2) << r.out;
  r = RunVqi("--home " + home_ + " --json server token list");
  ASSERT_EQ(r.code, 0) << r.out;
  Json list = Json::parse(r.out);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["scope"], "write");
  EXPECT_TRUE(list[0]["revoked_at"].is_null());
  r = RunVqi("--home " + home_ + " server token revoke ci");
  EXPECT_EQ(r.code, 0) << r.out;
  r = RunVqi("--home " + home_ + " server token revoke nobody");
  EXPECT_NE(r.code, 0);
}

}  // namespace
}  // namespace vqi
