// ComponentFetcher against the real server (fetch_test_env.h): verified files, zero bytes for an
// unchanged component, only the changed component's bytes, resume with Range, truncated
// transfers retried, a damaged cache or part fetched again, LRU eviction.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <tuple>

#include "fetch_test_env.h"
#include "gtest/gtest.h"
#include "vqi/base/file.h"
#include "vqi/base/hash.h"

namespace vqi::agent {
namespace {

namespace fs = std::filesystem;
using testing::Bytes;
using FetchTest = testing::FetchTest;
using testing::CuttingProxy;

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
  EXPECT_NE(c.status().message().find("artifact model.onnx"), std::string::npos)
      << c.status().ToString();
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
  EXPECT_EQ(got_first + second->counters().bytes_downloaded,
            static_cast<int64_t>(model.size()) + run_size);
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
  EXPECT_EQ(f->counters().bytes_downloaded,
            static_cast<int64_t>(model.size()) + c->artifacts[1].size);
  EXPECT_EQ(*Sha256File(c->artifacts[0].path), Sha256Hex(model));
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
  ASSERT_TRUE(
      WriteFileAtomic(root_ + "/cache/tmp/" + stored.artifacts[0].digest + ".part", Bytes(5000, 99))
          .ok());
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

// The bundle a device gets (agent.json, trusted-keys/) drives the same fetch in vqi-fetch-min,
// the binary that fetch_link_test.sh checks links no libtorch, OpenCV or cpp-httplib.
TEST_F(FetchTest, FetchMinWithABundle) {
  const std::string model = Bytes(1 << 20, 30);
  Create("com.acme.inspect", "1.0.0", model);
  const std::string bundle = base_ + "/bundle";  // trusted-keys/ is already there
  ASSERT_TRUE(WriteFileAtomic(bundle + "/agent.json",
                              Json{{"thing", "edge-1"},
                                   {"broker", "127.0.0.1:8883"},
                                   {"server", "http://127.0.0.1:" + std::to_string(port_)},
                                   {"token", token_}}
                                  .dump())
                  .ok());
  auto run = [&](const std::string& args) {
    const std::string cmd = std::string(VQI_FETCH_MIN) + " " + args + " 2>&1";
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    char buf[4096];
    size_t n;
    while (p && (n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    const int st = p ? ::pclose(p) : -1;
    return std::make_pair(WIFEXITED(st) ? WEXITSTATUS(st) : -1, out);
  };
  auto [code, out] = run(bundle + " " + root_ + " com.acme.inspect 1.0.0");
  ASSERT_EQ(code, 0) << out;
  Json j = Json::parse(out);
  EXPECT_EQ(j["artifacts"][0]["digest"], Sha256Hex(model));
  EXPECT_EQ(*Sha256File(j["artifacts"][0]["path"].get<std::string>()), Sha256Hex(model));
  EXPECT_EQ(j["counters"]["bytes_downloaded"].get<int64_t>(),
            static_cast<int64_t>(model.size()) + j["artifacts"][1]["size"].get<int64_t>());
  std::tie(code, out) = run(bundle + " " + root_ + " com.acme.inspect 1.0.0");
  ASSERT_EQ(code, 0) << out;
  EXPECT_EQ(Json::parse(out)["counters"]["bytes_downloaded"], 0);

  // a bundle without a token is refused naming the field
  ASSERT_TRUE(WriteFileAtomic(bundle + "/agent.json", R"({"server": "http://127.0.0.1:1"})").ok());
  std::tie(code, out) = run(bundle + " " + root_ + " com.acme.inspect 1.0.0");
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("agent.json: token: missing"), std::string::npos) << out;
}

TEST_F(FetchTest, FromCacheWorksWithoutTheServerAndVerifiesAgain) {
  const std::string model = Bytes(1 << 20, 40);
  Create("com.acme.inspect", "1.0.0", model);
  auto f = Fetcher();
  ASSERT_TRUE(f->Fetch("com.acme.inspect", "1.0.0").ok());
  StopServer();
  auto g = Fetcher();
  auto c = g->FromCache("com.acme.inspect", "1.0.0");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->artifacts[0].digest, Sha256Hex(model));
  EXPECT_EQ(g->counters().requests, 0);
  EXPECT_EQ(g->counters().bytes_from_cache, c->artifacts[0].size + c->artifacts[1].size);
  auto missing = g->FromCache("com.acme.inspect", "2.0.0");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound) << missing.status().ToString();
  // a damaged blob is not handed on
  {
    std::fstream file(c->artifacts[0].path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(7);
    file.put(static_cast<char>(model[7] ^ 1));
  }
  c = g->FromCache("com.acme.inspect", "1.0.0");
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound) << c.status().ToString();
  EXPECT_NE(c.status().message().find("artifact model.onnx"), std::string::npos);
  // the stored metadata is verified again: an edited manifest is refused
  const std::string meta_file = root_ + "/cache/meta/com.acme.inspect@1.0.0.json";
  Json meta = Json::parse(*ReadFile(meta_file));
  std::string m = meta["manifest"];
  m.replace(m.find("Acme"), 4, "Evil");
  meta["manifest"] = m;
  ASSERT_TRUE(WriteFileAtomic(meta_file, meta.dump()).ok());
  c = g->FromCache("com.acme.inspect", "1.0.0");
  EXPECT_EQ(c.status().code(), StatusCode::kPermissionDenied) << c.status().ToString();
}

}  // namespace
}  // namespace vqi::agent
