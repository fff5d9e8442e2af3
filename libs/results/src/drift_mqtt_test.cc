// Drift over a real Mosquitto: a device publishes results carrying its drift report and, when
// its alert changes, a vqi.inspect.drift/1 message on .../drift; the server's results ingest
// with the drift handler plugged in keeps the thing's drift state. Another device cannot raise
// an alert for it (broker ACL).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "test_util.h"
#include "transport/testing/broker.h"
#include "vqi/fleet/identity.h"
#include "vqi/fleet/store.h"
#include "vqi/pki/pki.h"
#include "vqi/results/drift_message.h"
#include "vqi/results/mqtt_ingest.h"
#include "vqi/transport/mqtt_client.h"

namespace vqi::results {
namespace {

namespace topics = transport::topics;

class DriftMqttTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!transport::testing::MosquittoAvailable())
      GTEST_SKIP() << "mosquitto is missing (Debian package mosquitto)";
    std::string t = (std::filesystem::temp_directory_path() / "vqi-drift-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    home_ = t;
    auto ca = fleet::OpenOrCreateCa(home_);
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    auto srv = pki::IssueCertificate(
        *ca, {"vqi-broker", pki::CertKind::kServer, {"localhost"}, {"127.0.0.1"}, 30});
    ASSERT_TRUE(srv.ok()) << srv.status().ToString();
    ASSERT_TRUE(pki::WriteIssued(home_ + "/broker-tls", *srv).ok());
    transport::testing::BrokerOptions bo;
    bo.dir = home_ + "/mosquitto";
    bo.ca_file = ca->CertPath();
    bo.server_cert_file = home_ + "/broker-tls/cert.pem";
    bo.server_key_file = home_ + "/broker-tls/key.pem";
    bo.crl_file = ca->CrlPath();
    auto broker = transport::testing::StartBroker(bo);
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(*broker);
    auto fleet = fleet::OpenSqliteFleetStore(fleet::FleetDbPath(home_));
    ASSERT_TRUE(fleet.ok());
    for (const char* name : {"cam-1", "cam-2"}) {
      ASSERT_TRUE((*fleet)->CreateThing(name).ok());
      auto issued = pki::IssueCertificate(*ca, {name, pki::CertKind::kClient, {}, {}, 30});
      ASSERT_TRUE(issued.ok()) << issued.status().ToString();
      ASSERT_TRUE(pki::WriteIssued(home_ + "/devices/" + name, *issued).ok());
    }
    ca_file_ = ca->CertPath();
  }
  void TearDown() override {
    ingest_.reset();
    broker_.reset();
    std::error_code ec;
    if (!home_.empty()) std::filesystem::remove_all(home_, ec);
  }

  std::unique_ptr<transport::MqttClient> Device(const std::string& name) {
    transport::MqttOptions o;
    o.host = broker_->host();
    o.port = broker_->port();
    o.client_id = name;
    o.ca_file = ca_file_;
    o.cert_file = home_ + "/devices/" + name + "/cert.pem";
    o.key_file = home_ + "/devices/" + name + "/key.pem";
    auto c = transport::MqttClient::Create(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_TRUE((*c)->Connect().ok());
    EXPECT_TRUE((*c)->WaitConnected(10000).ok());
    return std::move(*c);
  }

  std::string home_, ca_file_;
  std::unique_ptr<transport::testing::Broker> broker_;
  std::unique_ptr<MqttResultsIngest> ingest_;
};

Json Alert(const std::string& thing, int n, bool raised, double score) {
  return Json{{"schema", "vqi.inspect.drift/1"},
              {"id", thing + ":" + testing::ImageId(n) + ":drift"},
              {"thing", thing},
              {"component", "vqi.inspect"},
              {"state", raised ? "raised" : "cleared"},
              {"alert", raised},
              {"score", score},
              {"feature", "brightness"},
              {"window", 50},
              {"timestamp", "2026-12-06T10:00:00.000Z"}};
}

TEST_F(DriftMqttTest, TheAlertReachesTheThingsCounters) {
  MqttIngestOptions o;
  o.home = home_;
  o.mqtt_host = broker_->host();
  o.mqtt_port = broker_->port();
  auto handler_store = OpenSqliteResultStore(ResultsDbPath(home_));
  ASSERT_TRUE(handler_store.ok()) << handler_store.status().ToString();
  o.ingest.sub_handlers[std::string(topics::kDriftSub)] =
      MakeDriftHandler(std::shared_ptr<ResultStore>(std::move(*handler_store)));
  auto ingest = MqttResultsIngest::Create(o);
  ASSERT_TRUE(ingest.ok()) << ingest.status().ToString();
  ingest_ = std::move(*ingest);
  ASSERT_TRUE(ingest_->Start().ok());
  ASSERT_TRUE(ingest_->WaitReady(10000).ok()) << broker_->Log();

  auto cam1 = Device("cam-1");
  for (int i = 0; i < 60; ++i) {
    Json r = testing::ResultDoc("cam-1", i);
    if (i >= 49) {  // the monitor reports from its 50th image; the last 5 drift
      const bool alert = i >= 55;
      r["drift"] = {{"score", alert ? 1.8 : 0.4},
                    {"alert", alert},
                    {"feature", "brightness"},
                    {"window", i + 1}};
    }
    ASSERT_TRUE(cam1->Publish(testing::Topic("cam-1"), r.dump()).ok());
    if (i == 55) {
      ASSERT_TRUE(cam1->Publish(topics::DriftTopic("cam-1", "vqi.inspect"),
                                Alert("cam-1", 55, true, 1.8).dump())
                      .ok());
    }
  }
  // cam-2 forging an alert for cam-1: the broker's ACL drops it.
  auto cam2 = Device("cam-2");
  ASSERT_TRUE(
      cam2->Publish(topics::DriftTopic("cam-1", "vqi.inspect"), Alert("cam-1", 99, true, 9).dump())
          .ok());
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < end) {
    auto s = ingest_->Stats().ingest;
    if (s.stored == 60 && s.sub.count("drift") && s.sub.at("drift").handled == 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ingest_->Stop();
  const IngestStats s = ingest_->Stats().ingest;
  EXPECT_EQ(s.stored, 60u) << s.last_error;
  ASSERT_TRUE(s.sub.count("drift")) << s.last_error;
  EXPECT_EQ(s.sub.at("drift").handled, 1u);

  ResultStoreOptions so;
  so.create = false;
  auto store = OpenSqliteResultStore(ResultsDbPath(home_), so);
  ASSERT_TRUE(store.ok());
  auto c = (*store)->Counters("cam-1");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->drift_alert);
  EXPECT_DOUBLE_EQ(c->drift_score, 1.8);
  EXPECT_EQ(c->drift_window, 60);  // the last result's report came after the alert message
  EXPECT_EQ(c->drift_alerts, 1);
  EXPECT_EQ(c->drift_alert_changed, "2026-12-06T10:00:00.000Z");
  const Json j = ThingCountersToJson(*c);
  EXPECT_EQ(j["drift"]["alert"], true);
  EXPECT_EQ(j["drift"]["feature"], "brightness");
}

}  // namespace
}  // namespace vqi::results
