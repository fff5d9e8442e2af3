// Issue 20, drift on the server with real processes: `vqi broker run`, `vqi server --mqtt` (the
// results ingest with the drift handler), a device publishing with its `vqi thing create`
// certificate: results carrying the drift monitor's report, then the vqi.inspect.drift/1 alert
// on vqi/v1/results/<thing>/<component>/drift. `vqi results stats` (another process) shows the
// alert and GET /v1/things/{name}/results/stats serves the drift state.
#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
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
  return std::string(48, 'e') + b;
}

std::string Result(int n, double score, bool alert) {
  vqi::Json j{{"schema", "vqi.inspect.result/1"},
              {"id", "cam-1:" + Id(n)},
              {"thing", "cam-1"},
              {"component", "vqi.inspect"},
              {"model", {{"name", "tags"}, {"version", "1.0.0"}}},
              {"verdict", "pass"},
              {"timestamp", "2026-12-06T10:00:" + std::to_string(10 + n) + ".000Z"}};
  if (score >= 0)
    j["drift"] = {{"score", score}, {"alert", alert}, {"feature", "brightness"}, {"window", 50}};
  return j.dump();
}

TEST(DriftServerMqtt, TheAlertIsShownByStatsAndTheApi) {
  if (!vqi::transport::testing::MosquittoAvailable()) GTEST_SKIP() << "mosquitto is missing";
  std::string t = (fs::temp_directory_path() / "vqi-drift-srv-XXXXXX").string();
  ASSERT_NE(::mkdtemp(t.data()), nullptr);
  const std::string home = t + "/home";
  const int port = vqi::testing::FreePort();
  auto vqi_cmd = [&](const std::string& args) {
    return vqi::testing::RunVqi("--home '" + home + "' " + args);
  };
  auto r = vqi_cmd("thing create cam-1 --broker 127.0.0.1:" + std::to_string(port) +
                   " --server https://127.0.0.1:1");
  ASSERT_EQ(r.code, 0) << r.out;
  r = vqi_cmd("--json server token create --name reader --scope read 2>/dev/null");
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string token = vqi::Json::parse(r.out).value("token", "");
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
  // The server subscribes in the background: repeat the first result until it is stored.
  const auto deadline = Steady::now() + std::chrono::seconds(30);
  auto stats = [&]() -> vqi::Json {
    auto j = vqi::ParseJson(vqi_cmd("results stats --json --thing cam-1").out, "stats");
    return j.ok() && j->is_array() ? (*j)[0] : vqi::Json();
  };
  while (Steady::now() < deadline && !stats().is_object()) {
    ASSERT_TRUE((*dev)->Publish(topic, Result(0, -1, false)).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  ASSERT_TRUE(stats().is_object()) << server.output();
  EXPECT_TRUE(stats()["drift"].is_null());
  ASSERT_TRUE((*dev)->Publish(topic, Result(1, 0.4, false)).ok());
  ASSERT_TRUE((*dev)->Publish(topic, Result(2, 1.9, true)).ok());
  const vqi::Json alert{{"schema", "vqi.inspect.drift/1"},
                        {"id", "cam-1:" + Id(2) + ":drift"},
                        {"thing", "cam-1"},
                        {"component", "vqi.inspect"},
                        {"state", "raised"},
                        {"alert", true},
                        {"score", 1.9},
                        {"feature", "brightness"},
                        {"window", 50},
                        {"timestamp", "2026-12-06T10:00:12.000Z"}};
  ASSERT_TRUE((*dev)->Publish(topic + "/drift", alert.dump()).ok());
  vqi::Json s;
  while (Steady::now() < deadline) {
    s = stats();
    if (s.is_object() && s["drift"].is_object() && s["drift"]["alertsRaised"] == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(s["drift"].is_object()) << s.dump() << server.output();
  EXPECT_EQ(s["drift"]["alert"], true);
  EXPECT_EQ(s["drift"]["score"], 1.9);
  EXPECT_EQ(s["drift"]["feature"], "brightness");
  EXPECT_EQ(s["drift"]["alertsRaised"], 1);
  EXPECT_EQ(s["drift"]["alertChanged"], "2026-12-06T10:00:12.000Z");
  EXPECT_EQ(s["images"], 3);
  r = vqi_cmd("results stats");
  EXPECT_NE(r.out.find("1.90 ALERT"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("drift alert on cam-1: brightness 1.90 over a window of 50 images"),
            std::string::npos)
      << r.out;
  httplib::Client c("127.0.0.1", server.port());
  c.set_bearer_token_auth(token.c_str());
  auto res = c.Get("/v1/things/cam-1/results/stats");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  ASSERT_EQ(res->status, 200) << res->body;
  const vqi::Json api = vqi::Json::parse(res->body);
  EXPECT_EQ(api["drift"]["alert"], true);
  EXPECT_EQ(api["drift"]["score"], 1.9);
  std::printf("vqi results stats:\n%s", r.out.c_str());
  EXPECT_TRUE((*dev)->Disconnect(2000).ok());
  EXPECT_EQ(server.Stop(), 0);
  EXPECT_EQ(broker.Stop(), 0);
  std::error_code ec;
  fs::remove_all(t, ec);
}

}  // namespace
