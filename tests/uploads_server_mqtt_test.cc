// Issue 20 acceptance 4 (server side) with real processes: `vqi broker run`, `vqi server --mqtt
// --uploads-dataset inbox`, a device with its `vqi thing create` bundle's certificate publishing
// an upload exactly as its agent's spool does (vqi/v1/results/<thing>/<component>/upload), then
// `vqi dataset unlabeled` (another process) shows the image with the device and model version.
#include <gtest/gtest.h>
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
#include "upload_test_util.h"
#include "vqi/base/json.h"
#include "vqi/transport/mqtt_client.h"

namespace {

namespace fs = std::filesystem;
using Steady = std::chrono::steady_clock;

TEST(UploadsServerMqtt, AnUploadedImageIsInTheUnlabelledPoolWithDeviceAndModelVersion) {
  if (!vqi::transport::testing::MosquittoAvailable()) GTEST_SKIP() << "mosquitto is missing";
  std::string t = (fs::temp_directory_path() / "vqi-uploads-srv-XXXXXX").string();
  ASSERT_NE(::mkdtemp(t.data()), nullptr);
  const std::string home = t + "/home";
  const int port = vqi::testing::FreePort();
  auto vqi_cmd = [&](const std::string& args) {
    return vqi::testing::RunVqi("--home '" + home + "' " + args);
  };
  auto r = vqi_cmd("thing create cam-7 --broker 127.0.0.1:" + std::to_string(port) +
                   " --server https://127.0.0.1:1");
  ASSERT_EQ(r.code, 0) << r.out;
  vqi::testing::BrokerRun broker;
  ASSERT_TRUE(broker.Start(home, port)) << broker.output() << broker.Events();
  vqi::testing::ServerProcess server;
  ASSERT_TRUE(server.Start(
      home, {"--mqtt", "127.0.0.1:" + std::to_string(port), "--uploads-dataset", "inbox"}))
      << server.output();

  const std::string b = home + "/fleet/bundles/cam-7";
  vqi::transport::MqttOptions o;
  o.port = port;
  o.client_id = "cam-7";
  o.ca_file = b + "/ca.pem";
  o.cert_file = b + "/cert.pem";
  o.key_file = b + "/key.pem";
  auto dev = vqi::transport::MqttClient::Create(o);
  ASSERT_TRUE(dev.ok()) << dev.status().ToString();
  ASSERT_TRUE((*dev)->Connect().ok());
  ASSERT_TRUE((*dev)->WaitConnected(15000).ok()) << broker.Events();

  const std::string img = vqi::results::testing::BmpBytes(64, 48, 7);
  const std::string sha = vqi::Sha256Hex(img);
  const std::string doc =
      vqi::results::testing::UploadDoc("cam-7", img, "0badc0de-1", "4.2.0").dump();
  const std::string topic = vqi::results::testing::UploadTopicOf("cam-7");
  // The server subscribes in the background: resend (the same vqiMessageId, as the spool does)
  // until the image is in the pool; repeats are duplicates, never a second origin.
  const auto deadline = Steady::now() + std::chrono::seconds(30);
  vqi::Result<vqi::Json> pool = vqi::InvalidArgument("not read yet");
  while (Steady::now() < deadline) {
    ASSERT_TRUE((*dev)->Publish(topic, doc).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    pool = vqi::ParseJson(vqi_cmd("--json dataset unlabeled --dataset inbox").out, "pool");
    if (pool.ok() && (*pool)["unlabeled"] == 1) break;
  }
  ASSERT_TRUE(pool.ok()) << vqi_cmd("--json dataset unlabeled --dataset inbox").out
                         << server.output();
  ASSERT_EQ((*pool)["unlabeled"], 1) << pool->dump(2) << server.output();
  const vqi::Json& image = (*pool)["images"][0];
  EXPECT_EQ(image["image_id"], sha);
  EXPECT_EQ(image["width"], 64);
  ASSERT_EQ(image["origins"].size(), 1u) << image.dump(2);
  EXPECT_EQ(image["origins"][0]["thing"], "cam-7");
  EXPECT_EQ(image["origins"][0]["model"]["version"], "4.2.0");
  EXPECT_EQ(image["origins"][0]["vqiMessageId"], "0badc0de-1");

  // A corrupt upload (sha256 of other bytes) adds nothing.
  vqi::Json bad = vqi::Json::parse(doc);
  bad["sha256"] = vqi::Sha256Hex("other");
  bad["vqiMessageId"] = "0badc0de-2";
  ASSERT_TRUE((*dev)->Publish(topic, bad.dump()).ok());

  auto text = vqi_cmd("dataset unlabeled --dataset inbox --thing cam-7");
  EXPECT_EQ(text.code, 0) << text.out;
  EXPECT_NE(text.out.find(sha.substr(0, 12)), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("from cam-7"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("4.2.0"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("1 unlabeled images from cam-7"), std::string::npos) << text.out;
  EXPECT_NE(
      vqi_cmd("dataset unlabeled --dataset inbox --thing cam-8").out.find("0 unlabeled images"),
      std::string::npos);

  // The refusal is logged naming the field: wait until the server has handled the corrupt
  // upload (the device only waited for the broker's PUBACK) before stopping it.
  auto server_log = [&] {
    std::string log;
    if (std::FILE* f = std::fopen(server.log_path().c_str(), "r")) {
      char buf[4096];
      for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) log.append(buf, n);
      std::fclose(f);
    }
    return log;
  };
  for (int i = 0; i < 200 && server_log().find("sha256: ") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE((*dev)->Disconnect(2000).ok());
  EXPECT_EQ(server.Stop(), 0);
  EXPECT_EQ(broker.Stop(), 0);
  pool = vqi::ParseJson(vqi_cmd("--json dataset unlabeled --dataset inbox").out, "pool");
  ASSERT_TRUE(pool.ok());
  EXPECT_EQ((*pool)["unlabeled"], 1);  // the corrupt one never entered
  const std::string log = server_log();
  EXPECT_NE(log.find("sha256: "), std::string::npos) << log;
  std::error_code ec;
  fs::remove_all(t, ec);
}

}  // namespace
