// Issue 19, the download part end to end with real processes: `vqi key create`, `vqi component
// create` and `vqi server token create` make a signed component and a device token; the real
// `vqi server` serves it on a loopback port; `vqi-fetch-min` (the agent's fetch code, from a
// device bundle) downloads and verifies it. An unchanged component costs zero bytes, a new model
// version only the model's bytes; a blob changed on the server after signing is refused and
// nothing of it is cached.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "run_vqi.h"
#include "server_process.h"
#include "vqi/base/file.h"
#include "vqi/base/hash.h"
#include "vqi/base/json.h"

namespace {

namespace fs = std::filesystem;
using vqi::Json;
using vqi::testing::CmdResult;

CmdResult Shell(const std::string& cmd) {
  CmdResult r{-1, ""};
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int st = ::pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

std::string Bytes(size_t n, uint32_t seed) {
  std::string s(n, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (char& c : s) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = static_cast<char>(x);
  }
  return s;
}

class AgentFetchCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (fs::temp_directory_path() / "vqi-agent-fetch-cli-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    dir_ = t;
    home_ = dir_ + "/home";
    bundle_ = dir_ + "/bundle";
  }
  void TearDown() override {
    server_.Stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  CmdResult Vqi(const std::string& args) {
    return vqi::testing::RunVqi("--home '" + home_ + "' " + args);
  }
  void Write(const std::string& path, const std::string& data) {
    ASSERT_TRUE(vqi::WriteFileAtomic(path, data).ok());
  }
  // Publishes com.acme.inspect@version with this model.
  void Publish(const std::string& version, const std::string& model) {
    const std::string in = dir_ + "/in-" + version;
    Write(in + "/recipe.json",
          R"({"RecipeFormatVersion": "2020-01-25", "ComponentName": "com.acme.inspect",
      "ComponentVersion": "COMPONENT_VERSION", "ComponentPublisher": "Acme",
      "Manifests": [{"Platform": {"os": "linux"}, "Lifecycle": {"run": "{artifacts:path}/run.sh"},
                     "Artifacts": [{"Uri": "s3://b/model.onnx"}, {"Uri": "s3://b/run.sh"}]}]})");
    Write(in + "/model.onnx", model);
    Write(in + "/run.sh", "#!/bin/sh\necho inspect\n");
    CmdResult c = Vqi("component create --recipe " + in + "/recipe.json --artifact " + in +
                      "/model.onnx --artifact " + in +
                      "/run.sh --var COMPONENT_VERSION=" + version + " --key acme");
    ASSERT_EQ(c.code, 0) << c.out;
  }
  // vqi-fetch-min with the bundle into `root`: exit code and the parsed JSON (or the error).
  std::pair<int, Json> Fetch(const std::string& root, const std::string& version,
                             std::string* err = nullptr) {
    CmdResult r = Shell(std::string(VQI_FETCH_MIN) + " " + bundle_ + " " + root +
                        " com.acme.inspect " + version);
    if (err) *err = r.out;
    return {r.code, r.code == 0 ? Json::parse(r.out, nullptr, false) : Json()};
  }

  std::string dir_, home_, bundle_;
  vqi::testing::ServerProcess server_;
};

TEST_F(AgentFetchCliTest, PublishServeFetchTamper) {
  ASSERT_EQ(Vqi("key create acme").code, 0);
  const std::string model = Bytes(2 << 20, 1);
  Publish("1.0.0", model);
  CmdResult tok = Vqi("--json server token create --name edge-1 --scope device 2>/dev/null");
  ASSERT_EQ(tok.code, 0) << tok.out;
  const std::string token = Json::parse(tok.out.substr(tok.out.find('{')))["token"];
  CmdResult pub = Vqi("key export acme 2>/dev/null");
  ASSERT_EQ(pub.code, 0) << pub.out;
  Write(bundle_ + "/trusted-keys/acme.pub", pub.out);
  ASSERT_TRUE(server_.Start(home_)) << server_.output();
  Write(bundle_ + "/agent.json",
        Json{{"thing", "edge-1"},
             {"server", "http://127.0.0.1:" + std::to_string(server_.port())},
             {"token", token}}
            .dump());

  const std::string root = dir_ + "/agent";
  auto [code, j] = Fetch(root, "1.0.0");
  ASSERT_EQ(code, 0);
  ASSERT_EQ(j["artifacts"].size(), 2u);
  EXPECT_EQ(*vqi::Sha256File(j["artifacts"][0]["path"].get<std::string>()), vqi::Sha256Hex(model));
  const int64_t run_size = j["artifacts"][1]["size"];
  EXPECT_EQ(j["counters"]["bytes_downloaded"].get<int64_t>(),
            static_cast<int64_t>(model.size()) + run_size);

  std::tie(code, j) = Fetch(root, "1.0.0");  // unchanged: zero bytes
  ASSERT_EQ(code, 0);
  EXPECT_EQ(j["counters"]["bytes_downloaded"], 0);
  EXPECT_EQ(j["counters"]["bytes_from_cache"].get<int64_t>(),
            static_cast<int64_t>(model.size()) + run_size);

  const std::string model2 = Bytes(2 << 20, 2);  // a new model version: only its bytes
  Publish("1.0.1", model2);
  std::tie(code, j) = Fetch(root, "1.0.1");
  ASSERT_EQ(code, 0);
  EXPECT_EQ(j["counters"]["bytes_downloaded"].get<int64_t>(), static_cast<int64_t>(model2.size()));

  // the model's blob changed on the server after signing: refused, nothing cached
  const std::string digest = vqi::Sha256Hex(model2);
  std::string blob;
  for (const auto& e : fs::recursive_directory_iterator(home_ + "/artifacts"))
    if (e.path().filename().string().rfind(digest, 0) == 0) blob = e.path().string();
  ASSERT_FALSE(blob.empty());
  fs::permissions(blob, fs::perms::owner_write, fs::perm_options::add);
  {
    std::fstream f(blob, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(12345);
    f.put(static_cast<char>(model2[12345] ^ 1));
  }
  const std::string fresh = dir_ + "/agent2";
  std::string err;
  std::tie(code, j) = Fetch(fresh, "1.0.1", &err);
  EXPECT_EQ(code, 1);
  EXPECT_NE(err.find("DataLoss: component com.acme.inspect@1.0.1: artifact model.onnx (blob " +
                     digest + ")"),
            std::string::npos)
      << err;
  EXPECT_FALSE(fs::exists(fresh + "/cache/" + digest));
  EXPECT_TRUE(fs::is_empty(fresh + "/cache/tmp"));
  EXPECT_EQ(server_.Stop(), 0);
}

}  // namespace
