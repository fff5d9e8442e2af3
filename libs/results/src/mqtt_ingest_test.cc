// MqttResultsIngest against a real Mosquitto (vqi's broker configuration, ACL by certificate CN):
// a device publishing with its own certificate on vqi/v1/results/<thing>/<component> lands in
// the store; its duplicate and garbage are counted; a device cannot publish on another thing's
// results topic (broker ACL) and an unknown thing's results are refused.
#include "vqi/results/mqtt_ingest.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "test_util.h"
#include "transport/testing/broker.h"
#include "upload_test_util.h"
#include "vqi/dataset/store.h"
#include "vqi/fleet/identity.h"
#include "vqi/fleet/store.h"
#include "vqi/pki/pki.h"
#include "vqi/results/upload_ingest.h"
#include "vqi/sqlite/sqlite.h"
#include "vqi/transport/mqtt_client.h"

namespace vqi::results {
namespace {

using Steady = std::chrono::steady_clock;

class MqttIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!transport::testing::MosquittoAvailable())
      GTEST_SKIP() << "mosquitto is missing (Debian package mosquitto)";
    std::string t = (std::filesystem::temp_directory_path() / "vqi-results-XXXXXX").string();
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
    for (const char* name : {"cam-1", "cam-2", "ghost"}) {
      if (std::string(name) != "ghost") {
        ASSERT_TRUE((*fleet)->CreateThing(name).ok());
      }
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

  // Waits until `done` holds or 10 s passed.
  template <class F>
  bool WaitFor(F done) {
    auto end = Steady::now() + std::chrono::seconds(10);
    while (Steady::now() < end) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return done();
  }

  std::string home_, ca_file_;
  std::unique_ptr<transport::testing::Broker> broker_;
  std::unique_ptr<MqttResultsIngest> ingest_;
};

TEST_F(MqttIngestTest, DevicePublishArrivesInTheStore) {
  MqttIngestOptions o;
  o.home = home_;
  o.mqtt_host = broker_->host();
  o.mqtt_port = broker_->port();
  auto ingest = MqttResultsIngest::Create(o);
  ASSERT_TRUE(ingest.ok()) << ingest.status().ToString();
  ingest_ = std::move(*ingest);
  ASSERT_TRUE(ingest_->Start().ok());
  ASSERT_TRUE(ingest_->WaitReady(10000).ok()) << broker_->Log();

  auto cam1 = Device("cam-1");
  const int kN = 50;
  for (int i = 0; i < kN; ++i)
    ASSERT_TRUE(cam1->Publish(testing::Topic("cam-1"), testing::ResultDoc("cam-1", i).dump()).ok());
  ASSERT_TRUE(cam1->Publish(testing::Topic("cam-1"), testing::ResultDoc("cam-1", 0).dump()).ok());
  ASSERT_TRUE(cam1->Publish(testing::Topic("cam-1"), "{not json").ok());
  // cam-1 publishing on cam-2's topic: the broker's ACL drops it silently.
  ASSERT_TRUE(cam1->Publish(testing::Topic("cam-2"), testing::ResultDoc("cam-2", 1).dump()).ok());
  auto ghost = Device("ghost");  // has a certificate, but the fleet store does not know it
  ASSERT_TRUE(ghost->Publish(testing::Topic("ghost"), testing::ResultDoc("ghost", 1).dump()).ok());
  auto cam2 = Device("cam-2");
  ASSERT_TRUE(cam2->Publish(testing::Topic("cam-2"), testing::ResultDoc("cam-2", 7).dump()).ok());

  ASSERT_TRUE(WaitFor([&] {
    auto s = ingest_->Stats().ingest;
    return s.stored == kN + 1 && s.duplicates == 1 && s.garbage == 1 && s.unknown_thing == 1;
  })) << "stored "
      << ingest_->Stats().ingest.stored << " last error " << ingest_->Stats().ingest.last_error;
  ingest_->Stop();

  ResultStoreOptions so;
  so.create = false;
  auto store = OpenSqliteResultStore(ResultsDbPath(home_), so);
  ASSERT_TRUE(store.ok());
  auto c1 = (*store)->Counters("cam-1");
  ASSERT_TRUE(c1.ok());
  EXPECT_EQ(c1->images, kN);
  EXPECT_EQ(c1->duplicates, 1);
  EXPECT_EQ(c1->refused, 1);
  auto c2 = (*store)->Counters("cam-2");
  ASSERT_TRUE(c2.ok());
  EXPECT_EQ(c2->images, 1);  // only its own result, not cam-1's forgery
  ResultQuery q;
  q.thing = "cam-1";
  q.limit = 1000;
  auto tail = (*store)->After(q);
  ASSERT_EQ(tail->size(), static_cast<size_t>(kN));
  for (int i = 0; i < kN; ++i)  // in publish order (QoS 1, one connection)
    EXPECT_EQ((*tail)[i].id, "cam-1:" + testing::ImageId(i));
  EXPECT_EQ((*store)->Counters("ghost").status().code(), StatusCode::kNotFound);
}

// The dataset locked by another connection while a device uploads: the upload is kept in the
// pending folder (results beside it are stored at once); after the lock is released the writer's
// idle tick (no further messages arrive) stores it, exactly once, with its origin.
TEST_F(MqttIngestTest, AnUploadWhileTheDatasetIsLockedIsStoredByTheWritersTick) {
  UploadIngestOptions uo;
  uo.home = home_;
  uo.dataset = "uploads";
  auto uploads = UploadIngestor::Open(uo);
  ASSERT_TRUE(uploads.ok()) << uploads.status().ToString();
  MqttIngestOptions o;
  o.home = home_;
  o.mqtt_host = broker_->host();
  o.mqtt_port = broker_->port();
  o.ingest.sub_handlers["upload"] = *uploads;
  auto ingest = MqttResultsIngest::Create(o);
  ASSERT_TRUE(ingest.ok()) << ingest.status().ToString();
  ingest_ = std::move(*ingest);
  ASSERT_TRUE(ingest_->Start().ok());
  ASSERT_TRUE(ingest_->WaitReady(10000).ok()) << broker_->Log();

  auto other = sqlite::Db::Open(home_ + "/datasets/uploads/dataset.db");
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  ASSERT_TRUE(other->Exec("BEGIN IMMEDIATE").ok());
  const std::string img = testing::BmpBytes(64, 48, 3);
  auto cam1 = Device("cam-1");
  ASSERT_TRUE(cam1->Publish(testing::UploadTopicOf("cam-1"),
                            testing::UploadDoc("cam-1", img, "lk-1").dump())
                  .ok());
  ASSERT_TRUE(cam1->Publish(testing::Topic("cam-1"), testing::ResultDoc("cam-1", 1).dump()).ok());
  ASSERT_TRUE(WaitFor([&] {
    auto s = ingest_->Stats().ingest;
    return s.stored == 1 && s.sub["upload"].deferred == 1;
  })) << "last error "
      << ingest_->Stats().ingest.last_error;
  EXPECT_EQ((*uploads)->Stats().pending_files, 1);
  ASSERT_TRUE(other->Exec("COMMIT").ok());
  ASSERT_TRUE(WaitFor([&] { return (*uploads)->Stats().pending_files == 0; }));
  ingest_->Stop();
  EXPECT_EQ((*uploads)->Stats().pending_stored, 1u);
  EXPECT_EQ(ingest_->Stats().ingest.sub["upload"].errors, 0u);
  auto ds = dataset::Store::Open(home_, "uploads", false);
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  auto pool = (*ds)->UnlabeledPool({});
  ASSERT_TRUE(pool.ok());
  ASSERT_EQ(pool->size(), 1u);
  EXPECT_EQ((*pool)[0].sample.image_id, Sha256Hex(img));
  ASSERT_EQ((*pool)[0].origins.size(), 1u);
  EXPECT_EQ((*pool)[0].origins[0].thing, "cam-1");
  EXPECT_EQ((*pool)[0].origins[0].message_id, "lk-1");
}

// Acceptance 4's server side over a real broker: a device with its certificate publishes an
// upload (as its agent's spool does) → the image is in the dataset's unlabelled pool with its
// origin; the resend is a duplicate; another thing's upload topic is closed to it (ACL); a
// sub-kind without a handler is refused and counted; results keep flowing beside uploads.
TEST_F(MqttIngestTest, DeviceUploadEntersTheUnlabelledPoolWithItsOrigin) {
  UploadIngestOptions uo;
  uo.home = home_;
  uo.dataset = "uploads";
  auto uploads = UploadIngestor::Open(uo);
  ASSERT_TRUE(uploads.ok()) << uploads.status().ToString();
  MqttIngestOptions o;
  o.home = home_;
  o.mqtt_host = broker_->host();
  o.mqtt_port = broker_->port();
  o.ingest.sub_handlers["upload"] = *uploads;
  auto ingest = MqttResultsIngest::Create(o);
  ASSERT_TRUE(ingest.ok()) << ingest.status().ToString();
  ingest_ = std::move(*ingest);
  ASSERT_TRUE(ingest_->Start().ok());
  ASSERT_TRUE(ingest_->WaitReady(10000).ok()) << broker_->Log();

  // ~200 KB, a large upload within the agent's 256 KiB bound.
  const std::string img = testing::BmpBytes(300, 220, 1);
  ASSERT_LT(img.size(), kDefaultMaxUploadBytes);
  const std::string doc = testing::UploadDoc("cam-1", img, "5eed-1").dump();
  auto cam1 = Device("cam-1");
  ASSERT_TRUE(cam1->Publish(testing::Topic("cam-1"), testing::ResultDoc("cam-1", 1).dump()).ok());
  ASSERT_TRUE(cam1->Publish(testing::UploadTopicOf("cam-1"), doc).ok());
  ASSERT_TRUE(cam1->Publish(testing::UploadTopicOf("cam-1"), doc).ok());  // the spool's resend
  ASSERT_TRUE(cam1->Publish(testing::Topic("cam-1"), testing::ResultDoc("cam-1", 2).dump()).ok());
  // cam-1 on cam-2's upload topic: dropped by the broker's ACL, never reaches the server.
  ASSERT_TRUE(cam1->Publish(testing::UploadTopicOf("cam-2"),
                            testing::UploadDoc("cam-2", testing::BmpBytes(8, 8, 9), "x-1").dump())
                  .ok());
  ASSERT_TRUE(cam1->Publish(transport::topics::ShadowTopic("cam-1", "vqi.inspect"), "{}").ok());
  auto cam2 = Device("cam-2");  // the same image from another device: a second origin
  ASSERT_TRUE(cam2->Publish(testing::UploadTopicOf("cam-2"),
                            testing::UploadDoc("cam-2", img, "c2-1", "1.3.0").dump())
                  .ok());

  ASSERT_TRUE(WaitFor([&] {
    auto s = ingest_->Stats().ingest;
    auto u = s.sub["upload"];
    return s.stored == 2 && u.handled == 2 && u.duplicates == 1 && s.unhandled_sub == 1;
  })) << "stored "
      << ingest_->Stats().ingest.stored << " last error " << ingest_->Stats().ingest.last_error;
  ingest_->Stop();
  EXPECT_EQ((*uploads)->Stats().images_added, 1u);
  EXPECT_EQ((*uploads)->Stats().refused, 0u);

  auto ds = dataset::Store::Open(home_, "uploads", false);
  ASSERT_TRUE(ds.ok()) << ds.status().ToString();
  auto pool = (*ds)->UnlabeledPool({});
  ASSERT_TRUE(pool.ok());
  ASSERT_EQ(pool->size(), 1u);  // cam-2's forged "x-1" image is not there
  EXPECT_EQ((*pool)[0].sample.image_id, Sha256Hex(img));
  EXPECT_EQ((*pool)[0].sample.width, 300);
  ASSERT_EQ((*pool)[0].origins.size(), 2u);
  EXPECT_EQ((*pool)[0].origins[0].thing, "cam-1");
  EXPECT_EQ((*pool)[0].origins[0].model_version, "1.2.0");
  EXPECT_EQ((*pool)[0].origins[0].message_id, "5eed-1");
  EXPECT_EQ((*pool)[0].origins[1].thing, "cam-2");
  EXPECT_EQ((*pool)[0].origins[1].model_version, "1.3.0");
  ResultStoreOptions so;
  so.create = false;
  auto store = OpenSqliteResultStore(ResultsDbPath(home_), so);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->Counters("cam-1")->images, 2);
  EXPECT_EQ((*store)->Counters("cam-1")->refused, 1);  // the shadow message nobody takes
}

}  // namespace
}  // namespace vqi::results
