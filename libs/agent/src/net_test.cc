// The network side's pieces that need no broker: bundle → MQTT options, the transfer ledger.
// (With a real broker and server: tests/agent/agent_net_test.cc.)
#include "vqi/agent/net.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "vqi/agent/server_source.h"
#include "vqi/base/file.h"

namespace vqi::agent {
namespace {
namespace fs = std::filesystem;

std::string TempDir() {
  std::string t = (fs::temp_directory_path() / "vqi-net-XXXXXX").string();
  EXPECT_NE(::mkdtemp(t.data()), nullptr);
  return t;
}

TEST(NetTest, MqttOptionsFromBundle) {
  const std::string d = TempDir();
  for (const char* f : {"ca.pem", "cert.pem", "key.pem"}) std::ofstream(d + "/" + f) << "x";
  std::ofstream(d + "/agent.json") << R"({"thing": "cam-1", "broker": "127.0.0.1:8883"})";
  auto m = MqttOptionsFromBundle(d, "cam-1");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->host, "127.0.0.1");
  EXPECT_EQ(m->port, 8883);
  EXPECT_EQ(m->client_id, "cam-1");
  EXPECT_EQ(m->key_file, d + "/key.pem");
  EXPECT_FALSE(m->clean_session);
  for (const char* bad :
       {R"({"broker": "127.0.0.1"})", R"({"broker": "h:0"})", R"({"broker": "h:99999"})",
        R"({"broker": ":1"})", R"({"thing": "x"})", R"({"broker": 5})"}) {
    std::ofstream(d + "/agent.json") << bad;
    auto r = MqttOptionsFromBundle(d, "cam-1");
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(r.status().message().find("broker"), std::string::npos) << r.status().message();
  }
  std::ofstream(d + "/agent.json") << R"({"broker": "h:1"})";
  fs::remove(d + "/key.pem");
  EXPECT_EQ(MqttOptionsFromBundle(d, "cam-1").status().code(), StatusCode::kNotFound);
  fs::remove_all(d);
}

TEST(NetTest, TransferLedgerAddsDeltasAndSurvivesRestarts) {
  const std::string d = TempDir();
  fs::create_directories(d + "/state");
  {
    TransferLedger l(d + "/state/transfer.json");
    FetchCounters c;
    c.bytes_downloaded = 100;
    c.requests = 2;
    l.Add(c);
    c.bytes_downloaded = 150;  // the fetcher's counters only grow: +50
    c.bytes_from_cache = 7;
    c.requests = 3;
    l.Add(c);
    l.CountFetch(true, false);
  }
  TransferLedger again(d + "/state/transfer.json");  // a restarted agent: a new fetcher from 0
  FetchCounters c;
  c.bytes_downloaded = 10;
  again.Add(c);
  const Json j = ReadTransfer(d);
  EXPECT_EQ(j["bytesDownloaded"], 160);
  EXPECT_EQ(j["bytesFromCache"], 7);
  EXPECT_EQ(j["requests"], 3);
  std::ofstream(d + "/state/transfer.json") << "{damaged";
  EXPECT_EQ(ReadTransfer(d)["bytesDownloaded"], 0);
  fs::remove_all(d);
}

}  // namespace
}  // namespace vqi::agent
