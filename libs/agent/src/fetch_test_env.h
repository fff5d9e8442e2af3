// Test support for the fetch tests: the real server (libs/server in-process on a loopback
// port, a temporary home, a device token), components created and signed by libs/component's
// packaging (what `vqi component create` runs), the device's trusted-keys folder, and a TCP
// relay that cuts a transfer mid-body.
#pragma once

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
#include "vqi/agent/fetch.h"
#include "vqi/base/file.h"
#include "vqi/base/hash.h"
#include "vqi/blob/blob_store.h"
#include "vqi/component/package.h"
#include "vqi/component/store.h"
#include "vqi/server/server.h"
#include "vqi/server/token_store.h"
#include "vqi/signing/keys.h"
#include "vqi/sqlite/sqlite.h"

namespace vqi::agent::testing {

namespace fs = std::filesystem;
namespace comp = vqi::component;

inline std::string Bytes(size_t n, uint32_t seed) {
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

inline std::string Recipe(const std::string& name) {
  return R"({"RecipeFormatVersion": "2020-01-25", "ComponentName": ")" + name +
         R"(", "ComponentVersion": "COMPONENT_VERSION", "ComponentPublisher": "Acme",
  "Manifests": [{"Platform": {"os": "linux"}, "Lifecycle": {"run": "{artifacts:path}/run.sh"},
    "Artifacts": [{"Uri": "s3://b/model.onnx"}, {"Uri": "s3://b/run.sh"}]}]})";
}

// A TCP relay in front of the server that cuts its first connection after `cut_after` bytes
// of response (a transfer interrupted mid-body); later connections pass whole.
class CuttingProxy {
 public:
  CuttingProxy(int upstream_port, int64_t cut_after)
      : upstream_(upstream_port), cut_after_(cut_after) {
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
    ConfigureServer(o);
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
  // Lets a test change the server's options (TLS) before it starts.
  virtual void ConfigureServer(server::ServerOptions&) {}
  void StopServer() {
    if (!server_) return;
    server_->Shutdown();
    if (thread_.joinable()) thread_.join();
    server_.reset();
  }

  // Creates and signs name@version with these artifact bytes (as `vqi component create`).
  comp::StoredComponent Create(const std::string& name, const std::string& version,
                               const std::string& model,
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
    o.http.base_url = scheme_ + "://127.0.0.1:" + std::to_string(port ? port : port_);
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
    auto f =
        ComponentFetcher::Create(std::move(o), trusted.ok() ? *trusted : signing::TrustedKeys{});
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
  std::string scheme_ = "http";
  std::unique_ptr<signing::KeyStore> keys_;
  std::unique_ptr<comp::Store> store_;
  std::unique_ptr<blob::BlobStore> blobs_;
  std::unique_ptr<server::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace vqi::agent::testing
