// Issue 20, server side of results, with real processes: `vqi broker run`, `vqi server --mqtt`
// (the fleet controller and the results ingest), a device publishing with the certificate of
// its `vqi thing create` bundle on vqi/v1/results/<thing>/<component>; `vqi results tail` (another
// process, reading the store the server writes) prints each result once; the duplicate and the
// garbage are counted in `vqi results stats`; GET /v1/results serves them.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>

#include "broker_run.h"
#include "run_vqi.h"
#include "server_process.h"
#include "transport/testing/broker.h"
#include "vqi/base/json.h"
#include "vqi/transport/mqtt_client.h"

namespace {

namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

std::string Id(int n) {
  char b[17];
  std::snprintf(b, sizeof b, "%016x", n);
  return std::string(48, 'd') + b;
}

std::string Result(const std::string& thing, int n) {
  return vqi::Json{{"schema", "vqi.inspect.result/1"},
                   {"id", thing + ":" + Id(n)},
                   {"thing", thing},
                   {"component", "vqi.inspect"},
                   {"model", {{"name", "tags"}, {"version", "2"}}},
                   {"image", {{"name", "img" + std::to_string(n) + ".jpg"}}},
                   {"verdict", n % 2 ? "fail" : "pass"},
                   {"timings_ms", {{"model", 10.0}, {"total", 12.0}}}}
      .dump();
}

size_t CountJsonLines(const std::string& out) {
  size_t n = 0;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (vqi::ParseJson(line, "line").ok()) ++n;
  return n;
}

TEST(ResultsServerMqtt, DevicePublishReachesTheStoreAndTail) {
  if (!vqi::transport::testing::MosquittoAvailable()) GTEST_SKIP() << "mosquitto is missing";
  std::string t = (fs::temp_directory_path() / "vqi-results-srv-XXXXXX").string();
  ASSERT_NE(::mkdtemp(t.data()), nullptr);
  const std::string home = t + "/home";
  const int port = vqi::testing::FreePort();
  auto vqi_cmd = [&](const std::string& args) {
    return vqi::testing::RunVqi("--home '" + home + "' " + args);
  };
  auto r = vqi_cmd("thing create cam-1 --broker 127.0.0.1:" + std::to_string(port) +
                   " --server https://127.0.0.1:1");
  ASSERT_EQ(r.code, 0) << r.out;
  vqi::testing::BrokerRun broker;
  ASSERT_TRUE(broker.Start(home, port)) << broker.output() << broker.Events();
  vqi::testing::ServerProcess server;
  ASSERT_TRUE(server.Start(home, {"--mqtt", "127.0.0.1:" + std::to_string(port)}))
      << server.output();

  const std::string b = home + "/fleet/bundles/cam-1";
  vqi::transport::MqttOptions o;
  o.port = port;
  o.client_id = "cam-1";
  o.ca_file = b + "/ca.pem";
  o.cert_file = b + "/cert.pem";
  o.key_file = b + "/key.pem";
  auto dev = vqi::transport::MqttClient::Create(o);
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  ASSERT_TRUE((*dev)->Connect().ok());
  ASSERT_TRUE((*dev)->WaitConnected(15000).ok()) << broker.Events();
  const std::string topic = "vqi/v1/results/cam-1/vqi.inspect";
  // The server subscribes in the background: wait until a first result is in the store.
  const auto deadline = Steady::now() + std::chrono::seconds(30);
  bool first = false;
  while (!first && Steady::now() < deadline) {
    ASSERT_TRUE((*dev)->Publish(topic, Result("cam-1", 0)).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    first = CountJsonLines(vqi_cmd("results tail --json").out) == 1;
  }
  ASSERT_TRUE(first) << vqi_cmd("results tail --json").out;
  const int kN = 20;
  for (int i = 1; i < kN; ++i) ASSERT_TRUE((*dev)->Publish(topic, Result("cam-1", i)).ok());
  ASSERT_TRUE((*dev)->Publish(topic, Result("cam-1", 3)).ok());  // duplicate id
  ASSERT_TRUE((*dev)->Publish(topic, "{\"schema\": 7}").ok());   // garbage
  vqi::testing::CmdResult tail;
  while (Steady::now() < deadline) {
    tail = vqi_cmd("results tail --json --thing cam-1 --limit 100");
    auto stats = vqi::ParseJson(vqi_cmd("results stats --json --thing cam-1").out, "stats");
    if (CountJsonLines(tail.out) == kN && stats.ok() && (*stats)[0]["refused"] == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(CountJsonLines(tail.out), static_cast<size_t>(kN)) << tail.out;
  auto stats = vqi::ParseJson(vqi_cmd("results stats --json --thing cam-1").out, "stats");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ((*stats)[0]["images"], kN);
  EXPECT_EQ((*stats)[0]["duplicates"].get<int>() >= 1, true);  // + any repeats of result 0
  EXPECT_EQ((*stats)[0]["refused"], 1);
  EXPECT_EQ((*stats)[0]["fail"], kN / 2);
  EXPECT_TRUE((*dev)->Disconnect(2000).ok());
  EXPECT_EQ(server.Stop(), 0);
  EXPECT_EQ(broker.Stop(), 0);
  std::error_code ec;
  fs::remove_all(t, ec);
}

}  // namespace
