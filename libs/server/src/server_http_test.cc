// The server in-process on a loopback port: auth and scopes, limits, errors, artifacts with
// Range/ETag, the OpenAPI document against the routes, graceful shutdown.
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "test_http.h"
#include "vqi/base/hash.h"
#include "vqi/blob/blob_store.h"
#include "vqi/dataset/store.h"
#include "vqi/server/server.h"
#include "vqi/server/token_store.h"

namespace vqi::server {
namespace {

using testing::RawExchange;

class ServerHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = std::filesystem::temp_directory_path() /
            ("vqi_server_" + std::to_string(getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(home_);
    auto tokens = OpenTokenStore(home_);
    ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
    for (auto [name, scope] : {std::pair{"r", Scope::kRead},
                               {"w", Scope::kWrite},
                               {"a", Scope::kAdmin},
                               {"d", Scope::kDevice}}) {
      auto t = (*tokens)->Create(name, scope);
      ASSERT_TRUE(t.ok());
      token_[name] = t->token;
    }
    ServerOptions o;
    o.home = home_;
    o.threads = 4;
    o.max_body_bytes = 1024;
    o.max_upload_bytes = 8 << 20;
    o.shutdown_grace = std::chrono::seconds(10);
    auto s = Server::Create(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    auto port = server_->Bind();
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
    thread_ = std::thread([this] { run_status_ = server_->Run(); });
  }
  void TearDown() override {
    server_->Shutdown();
    if (thread_.joinable()) thread_.join();
    server_.reset();
    std::filesystem::remove_all(home_);
  }

  httplib::Client Client(const std::string& who = "") {
    httplib::Client c("127.0.0.1", port_);
    if (!who.empty()) c.set_bearer_token_auth(token_[who].c_str());
    c.set_read_timeout(10);
    return c;
  }
  static std::string Code(const httplib::Result& r) {
    if (!r) return "no response";
    auto j = Json::parse(r->body, nullptr, false);
    if (j.is_discarded() || !j.contains("error")) return "not an error: " + r->body.substr(0, 80);
    return j["error"]["code"].get<std::string>();
  }
  std::string Upload(const std::string& bytes) {
    auto r = Client("w").Put("/v1/artifacts", bytes, "application/octet-stream");
    EXPECT_TRUE(r && (r->status == 201 || r->status == 200)) << (r ? r->body : "no response");
    return r ? Json::parse(r->body)["sha256"].get<std::string>() : "";
  }

  std::string home_;
  std::map<std::string, std::string> token_;
  std::unique_ptr<Server> server_;
  int port_ = 0;
  std::thread thread_;
  Status run_status_;
};

TEST_F(ServerHttpTest, PublicRoutesNeedNoToken) {
  auto r = Client().Get("/v1/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Json::parse(r->body)["status"], "ok");
  r = Client().Get("/v1/openapi.json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Json::parse(r->body)["openapi"], "3.0.3");
}

TEST_F(ServerHttpTest, MissingOrBadTokenIs401) {
  auto r = Client().Get("/v1/datasets");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(Code(r), "unauthenticated");
  EXPECT_EQ(r->get_header_value("WWW-Authenticate").rfind("Bearer", 0), 0u);
  auto c = Client();
  c.set_bearer_token_auth("vqi_000000000000_" + std::string(64, '0'));
  r = c.Get("/v1/datasets");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  c.set_bearer_token_auth((token_["r"] + "x").c_str());
  r = c.Get("/v1/datasets");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  httplib::Headers basic{{"Authorization", "Basic dXNlcjpwYXNz"}};
  r = Client().Get("/v1/datasets", basic);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
}

TEST_F(ServerHttpTest, ScopesAreEnforced) {
  // read: may read, may not write
  auto r = Client("r").Get("/v1/datasets");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  r = Client("r").Put("/v1/artifacts", "x", "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(Code(r), "permission_denied");
  EXPECT_NE(r->body.find("needs write"), std::string::npos) << r->body;
  // write: may not administer tokens; admin may
  r = Client("w").Get("/v1/tokens");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  r = Client("a").Get("/v1/tokens");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Json::parse(r->body)["tokens"].size(), 4u);
  EXPECT_EQ(r->body.find(token_["a"]), std::string::npos);  // never a secret
  // device: artifacts yes, datasets no
  const std::string digest = Upload("device bytes");
  r = Client("d").Get("/v1/artifacts/" + digest);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = Client("d").Get("/v1/datasets");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
}

TEST_F(ServerHttpTest, Datasets) {
  {
    auto store = dataset::Store::Open(home_, "metal", true);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->EnsureClass("scratch").ok());
  }
  auto r = Client("r").Get("/v1/datasets");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  Json j = Json::parse(r->body);
  ASSERT_EQ(j["datasets"].size(), 1u);
  EXPECT_EQ(j["datasets"][0]["name"], "metal");
  r = Client("r").Get("/v1/datasets/metal");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(Json::parse(r->body)["name"], "metal");
  EXPECT_EQ(Json::parse(r->body)["images"], 0);
  r = Client("r").Get("/v1/datasets/nope");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404) << r->body;
  EXPECT_EQ(Code(r), "not_found");
}

TEST_F(ServerHttpTest, RevokedTokenIsRefusedAtOnce) {
  auto r = Client("a").Delete("/v1/tokens/r");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  r = Client("r").Get("/v1/datasets");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
}

TEST_F(ServerHttpTest, CreateTokenOverHttp) {
  auto r =
      Client("a").Post("/v1/tokens", R"({"name": "dev1", "scope": "device"})", "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  const std::string token = Json::parse(r->body)["token"];
  auto c = Client();
  c.set_bearer_token_auth(token.c_str());
  r = c.Get("/v1/datasets");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);  // a device token
  r = Client("a").Post("/v1/tokens", R"({"name": "x", "scope": "root"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("scope"), std::string::npos);
  r = Client("a").Post("/v1/tokens", R"({"name": "x")", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Code(r), "invalid_argument");
  r = Client("a").Post("/v1/tokens", R"({"scope": "read"})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find("'name'"), std::string::npos);
}

TEST_F(ServerHttpTest, UploadDeduplicatesAndChecksTheDigest) {
  const std::string bytes(300000, 'q');
  auto r = Client("w").Put("/v1/artifacts", bytes, "application/octet-stream");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  Json j = Json::parse(r->body);
  EXPECT_EQ(j["sha256"], Sha256Hex(bytes));
  EXPECT_EQ(j["size"], 300000);
  r = Client("w").Post("/v1/artifacts", bytes, "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Json::parse(r->body)["created"], false);
  // a wrong expected digest stores nothing
  const std::string other = "other bytes";
  r = Client("w").Put("/v1/artifacts?sha256=" + Sha256Hex(bytes), other,
                      "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_NE(r->body.find(Sha256Hex(other)), std::string::npos);
  r = Client("r").Get("/v1/artifacts/" + Sha256Hex(other));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(Code(r), "not_found");
  // no temporary file left behind
  EXPECT_TRUE(std::filesystem::is_empty(home_ + "/server/uploads"));
}

TEST_F(ServerHttpTest, DownloadWithRangeEtagAndHead) {
  std::string bytes;
  for (int i = 0; i < 1000; ++i) bytes += static_cast<char>('a' + i % 26);
  const std::string d = Upload(bytes);
  auto c = Client("r");
  auto r = c.Get("/v1/artifacts/" + d);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, bytes);
  EXPECT_EQ(r->get_header_value("ETag"), "\"" + d + "\"");
  EXPECT_EQ(r->get_header_value("Accept-Ranges"), "bytes");

  r = c.Get("/v1/artifacts/" + d, {{"Range", "bytes=10-19"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body, bytes.substr(10, 10));
  EXPECT_EQ(r->get_header_value("Content-Range"), "bytes 10-19/1000");
  r = c.Get("/v1/artifacts/" + d, {{"Range", "bytes=-7"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body, bytes.substr(993));
  r = c.Get("/v1/artifacts/" + d, {{"Range", "bytes=990-"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(r->body, bytes.substr(990));
  r = c.Get("/v1/artifacts/" + d, {{"Range", "bytes=1000-"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 416);
  EXPECT_EQ(r->get_header_value("Content-Range"), "bytes */1000");
  EXPECT_EQ(Code(r), "range_not_satisfiable");
  r = c.Get("/v1/artifacts/" + d, {{"Range", "bytes=0-1,5-6"}});  // several: the whole
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, bytes);

  r = c.Get("/v1/artifacts/" + d, {{"If-None-Match", "\"" + d + "\""}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 304);
  EXPECT_TRUE(r->body.empty());
  r = c.Get("/v1/artifacts/" + d, {{"If-None-Match", "\"abc\", W/\"" + d + "\""}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 304);
  r = c.Get("/v1/artifacts/" + d, {{"If-None-Match", "\"abc\""}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);

  r = c.Head("/v1/artifacts/" + d);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Length"), "1000");
  EXPECT_TRUE(r->body.empty());
}

TEST_F(ServerHttpTest, ArtifactIdsAreChecked) {
  auto r = Client("r").Get("/v1/artifacts/..%2f..%2fetc%2fpasswd");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->status == 400 || r->status == 404) << r->status;
  r = Client("r").Get("/v1/artifacts/ABC");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Code(r), "invalid_argument");
  r = Client("r").Get("/v1/artifacts/" + std::string(64, 'a'));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
}

TEST_F(ServerHttpTest, EmptyArtifact) {
  const std::string d = Upload("");
  EXPECT_EQ(d, Sha256Hex(""));
  auto r = Client("r").Get("/v1/artifacts/" + d);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_TRUE(r->body.empty());
}

TEST_F(ServerHttpTest, RangeHeaderDoesNotSliceJson) {
  auto r = Client().Get("/v1/health", {{"Range", "bytes=0-3"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Json::parse(r->body)["status"], "ok");
}

TEST_F(ServerHttpTest, UnknownRoutesAndMethods) {
  auto r = Client("r").Get("/v1/nothing");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(Code(r), "no_route");
  r = Client("r").Delete("/v1/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(Code(r), "method_not_allowed");
}

TEST_F(ServerHttpTest, OversizedBodyIsRefusedFromItsHeaders) {
  // The body is never sent: the answer must come from the headers alone.
  auto r = RawExchange(port_, "PUT /v1/artifacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                  token_["w"] + "\r\nContent-Length: 9000000\r\n\r\n");
  EXPECT_EQ(r.status, 413) << r.head;
  EXPECT_NE(r.body.find("payload_too_large"), std::string::npos);
  EXPECT_LT(r.seconds, 3.0);
  r = RawExchange(port_, "POST /v1/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                             token_["a"] + "\r\nContent-Length: 2000\r\n\r\n");
  EXPECT_EQ(r.status, 413) << r.head;
  EXPECT_NE(r.body.find("--max-body-bytes"), std::string::npos);
  // Expect: 100-continue gets the refusal instead of 100
  r = RawExchange(port_, "PUT /v1/artifacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                             token_["w"] +
                             "\r\nContent-Length: 9000000\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(r.status, 413) << r.head;
}

TEST_F(ServerHttpTest, BodiesNeedALength) {
  auto r = RawExchange(port_, "PUT /v1/artifacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                  token_["w"] +
                                  "\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(r.status, 411) << r.head;
  // Neither Content-Length nor Transfer-Encoding: an empty body (RFC 9112), answered at once.
  r = RawExchange(port_, "POST /v1/tokens HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                             token_["a"] + "\r\n\r\n");
  EXPECT_EQ(r.status, 400) << r.head;
  EXPECT_NE(r.body.find("got nothing"), std::string::npos) << r.body;
  EXPECT_LT(r.seconds, 3.0);
  r = RawExchange(port_, "PUT /v1/artifacts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                             token_["w"] +
                             "\r\nContent-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_EQ(r.status, 415) << r.head;
}

TEST_F(ServerHttpTest, RefusedBodyIsNeverParsedAsARequest) {
  // The refused request's body holds what looks like a request: it must not be answered.
  const std::string smuggled = "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n";
  bool closed = false;
  const std::string got =
      testing::RawReadAll(port_,
                          "PUT /v1/artifacts HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                              std::to_string(smuggled.size()) + "\r\n\r\n" + smuggled,
                          &closed);
  EXPECT_EQ(testing::CountResponses(got), 1) << got;
  EXPECT_NE(got.find("401"), std::string::npos);
  EXPECT_TRUE(closed);
}

TEST_F(ServerHttpTest, KeepAliveServesSeveralRequests) {
  bool closed = false;
  const std::string one = "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string got = testing::RawReadAll(port_, one + one + one, &closed, 5000, 3);
  EXPECT_EQ(testing::CountResponses(got), 3) << got;
  EXPECT_FALSE(closed);  // still open for more
}

TEST_F(ServerHttpTest, HeaderFloodEndsTheConnection) {
  // 1 MiB of one header line without its newline: refused after 64 KiB, never buffered.
  bool closed = false;
  const std::string got = testing::RawReadAll(
      port_, "GET /v1/health HTTP/1.1\r\nX-Flood: " + std::string(1 << 20, 'a'), &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(got.find("200 OK"), std::string::npos) << got.substr(0, 200);
  // many small headers: the same budget
  std::string many = "GET /v1/health HTTP/1.1\r\n";
  for (int i = 0; i < 20000; ++i) many += "X-" + std::to_string(i) + ": y\r\n";
  const std::string got2 = testing::RawReadAll(port_, many + "\r\n", &closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(got2.find("200 OK"), std::string::npos);
  // and the server still serves
  auto r = Client().Get("/v1/health");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

TEST_F(ServerHttpTest, OpenApiMatchesTheRoutes) {
  auto r = Client().Get("/v1/openapi.json");
  ASSERT_TRUE(r);
  const Json doc = Json::parse(r->body);
  // every registered route is documented, with its access
  std::set<std::pair<std::string, std::string>> routes;
  for (const RouteInfo& ri : server_->Routes()) {
    std::string m = ri.method;
    for (char& ch : m) ch = static_cast<char>(std::tolower(ch));
    routes.insert({ri.pattern, m});
    ASSERT_TRUE(doc["paths"].contains(ri.pattern)) << ri.pattern;
    ASSERT_TRUE(doc["paths"][ri.pattern].contains(m)) << ri.method << " " << ri.pattern;
    EXPECT_EQ(doc["paths"][ri.pattern][m]["x-vqi-access"], AccessName(ri.access));
  }
  // every documented operation is answered by a handler over HTTP (not no_route/405)
  size_t operations = 0;
  for (auto& [path, item] : doc["paths"].items()) {
    for (auto& [method, op] : item.items()) {
      ++operations;
      EXPECT_TRUE(routes.count({path, method})) << method << " " << path;
      std::string url = path;
      for (size_t i; (i = url.find('{')) != std::string::npos;)
        url.replace(i, url.find('}', i) - i + 1, "x");
      httplib::Request req;
      auto c = Client("a");
      httplib::Result res = method == "get"    ? c.Get(url)
                            : method == "post" ? c.Post(url, "", "application/json")
                            : method == "put"  ? c.Put(url, "", "application/octet-stream")
                            : method == "delete"
                                ? c.Delete(url)
                                : httplib::Result(nullptr, httplib::Error::Unknown);
      ASSERT_TRUE(res) << method << " " << url;
      EXPECT_NE(Code(res), "no_route") << method << " " << url;
      EXPECT_NE(Code(res), "method_not_allowed") << method << " " << url;
    }
  }
  EXPECT_EQ(operations, routes.size());
}

TEST_F(ServerHttpTest, ShutdownFinishesTheDownloadInFlight) {
  std::string bytes(6 << 20, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
  const std::string d = Upload(bytes);
  auto c = Client("r");
  std::string got;
  bool asked = false;
  auto r = c.Get("/v1/artifacts/" + d, [&](const char* data, size_t n) {
    got.append(data, n);
    if (!asked) {
      asked = true;
      server_->Shutdown();  // while the response is being sent
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    return true;
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(got.size(), bytes.size());
  EXPECT_TRUE(got == bytes);
  thread_.join();
  EXPECT_TRUE(run_status_.ok()) << run_status_.ToString();
  // no longer accepting
  auto after = RawExchange(port_, "GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n", 1000);
  EXPECT_FALSE(after.connected && after.status == 200);
}

}  // namespace
}  // namespace vqi::server
