// MqttClient against a real Mosquitto with real TLS and certificates from libs/pki.
#include "vqi/transport/mqtt_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "transport/testing/broker.h"
#include "vqi/pki/pki.h"
#include "vqi/transport/topics.h"

namespace vqi::transport {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "vqi-mqtt-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Messages a client received, for waiting on from the test thread.
class Inbox {
 public:
  MqttClient::MessageHandler Handler(std::function<Status(const MqttMessage&)> check = nullptr) {
    return [this, check](const MqttMessage& m) {
      Status s = check ? check(m) : Status::Ok();
      if (s.ok()) {
        std::lock_guard lock(mu_);
        messages_.push_back(m);
        cv_.notify_all();
      }
      return s;
    };
  }
  // Waits until at least `n` messages arrived; returns a copy of all of them.
  std::vector<MqttMessage> WaitFor(size_t n, int timeout_ms = 5000) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                 [&] { return messages_.size() >= n; });
    return messages_;
  }
  std::vector<MqttMessage> Now() {
    std::lock_guard lock(mu_);
    return messages_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<MqttMessage> messages_;
};

// The first byte the broker answers to an MQTT 3.1.1 CONNECT over TLS (0x20 = CONNACK), or -1
// when the handshake or the connection failed. `cert` empty: no client certificate.
int RawConnect(int port, const std::string& ca, const std::string& cert, const std::string& key) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr);
  if (!cert.empty()) {
    SSL_CTX_use_certificate_file(ctx, cert.c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM);
  }
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  timeval tv{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  int result = -1;
  SSL* ssl = nullptr;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) == 1) {
      const std::string id = "raw";
      std::string body = std::string("\x00\x04MQTT\x04\x02\x00\x3c", 10);
      body += static_cast<char>(0);
      body += static_cast<char>(id.size());
      body += id;
      std::string pkt = "\x10";
      pkt += static_cast<char>(body.size());
      pkt += body;
      unsigned char b = 0;
      if (SSL_write(ssl, pkt.data(), static_cast<int>(pkt.size())) > 0 && SSL_read(ssl, &b, 1) == 1)
        result = b;
    }
    SSL_free(ssl);
  }
  ::close(fd);
  SSL_CTX_free(ctx);
  return result;
}

class MqttTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::MosquittoAvailable())
      GTEST_SKIP() << testing::kMosquittoPath << " is missing (Debian package mosquitto)";
    auto ca = pki::CreateCa(dir_.path() + "/pki", "vqi test CA");
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    ca_ = *ca;
    auto srv = pki::IssueCertificate(
        ca_, {"vqi-broker", pki::CertKind::kServer, {"localhost"}, {"127.0.0.1"}, 30});
    ASSERT_TRUE(srv.ok()) << srv.status().ToString();
    ASSERT_TRUE(pki::WriteIssued(dir_.path() + "/broker", *srv).ok());
    for (const char* name : {"vqi-server", "dev-a", "dev-b"}) Identity(name);
    StartTheBroker();
  }

  void StartTheBroker() {
    testing::BrokerOptions o;
    o.dir = dir_.path() + "/mosquitto";
    o.ca_file = ca_.CertPath();
    o.server_cert_file = dir_.path() + "/broker/cert.pem";
    o.server_key_file = dir_.path() + "/broker/key.pem";
    o.crl_file = ca_.CrlPath();
    auto broker = testing::StartBroker(o);
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(broker).value();
  }

  void Identity(const std::string& name, pki::Ca* ca = nullptr) {
    auto issued = pki::IssueCertificate(ca ? *ca : ca_, {name, pki::CertKind::kClient, {}, {}, 30});
    ASSERT_TRUE(issued.ok()) << issued.status().ToString();
    ASSERT_TRUE(pki::WriteIssued(dir_.path() + "/" + name, *issued).ok());
  }

  MqttOptions Options(const std::string& name) {
    MqttOptions o;
    o.host = broker_->host();
    o.port = broker_->port();
    o.client_id = name;
    o.ca_file = ca_.CertPath();
    o.cert_file = dir_.path() + "/" + name + "/cert.pem";
    o.key_file = dir_.path() + "/" + name + "/key.pem";
    o.reconnect_min_ms = 100;
    o.reconnect_max_ms = 400;
    o.connect_timeout_ms = 1000;
    o.keepalive_seconds = 10;
    return o;
  }

  std::unique_ptr<MqttClient> Client(const MqttOptions& o, Inbox* inbox = nullptr,
                                     bool connect = true) {
    auto c = MqttClient::Create(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    if (!c.ok()) return nullptr;
    if (inbox) (*c)->OnMessage(inbox->Handler());
    if (connect) {
      EXPECT_TRUE((*c)->Connect().ok());
      Status s = (*c)->WaitConnected(5000);
      EXPECT_TRUE(s.ok()) << s.ToString() << "\n" << broker_->Log();
    }
    return std::move(c).value();
  }

  TempDir dir_;
  pki::Ca ca_;
  std::unique_ptr<testing::Broker> broker_;
};

TEST_F(MqttTest, DevicePublishesStatusAndTheServerReceivesItWithQos1) {
  Inbox server_inbox;
  auto server = Client(Options("vqi-server"), &server_inbox);
  ASSERT_TRUE(server->Subscribe(topics::AllStatus(), 1).ok());
  auto dev = Client(Options("dev-a"));
  ASSERT_TRUE(dev->Publish(topics::StatusTopic("dev-a"), R"({"status":"SUCCEEDED"})").ok());
  auto got = server_inbox.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].topic, "vqi/v1/things/dev-a/status");
  EXPECT_EQ(got[0].payload, R"({"status":"SUCCEEDED"})");
  EXPECT_EQ(got[0].qos, 1);
  EXPECT_TRUE(dev->Disconnect(2000).ok());  // the PUBACK came back
  EXPECT_EQ(dev->Stats().published, 1u);
  EXPECT_EQ(dev->state(), ConnectionState::kStopped);
}

TEST_F(MqttTest, RetainedDesiredStateReachesADeviceThatConnectsLater) {
  auto server = Client(Options("vqi-server"));
  ASSERT_TRUE(server->Publish(topics::DesiredTopic("dev-a"), R"({"sequence":7})", 1, true).ok());
  ASSERT_TRUE(server->Disconnect(2000).ok());
  Inbox inbox;
  auto dev = Client(Options("dev-a"), &inbox);
  ASSERT_TRUE(dev->Subscribe(topics::DesiredTopic("dev-a"), 1).ok());
  auto got = inbox.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, R"({"sequence":7})");
  EXPECT_TRUE(got[0].retained);
}

TEST_F(MqttTest, PersistentSessionDeliversWhatWasPublishedWhileTheDeviceWasOffline) {
  {
    auto dev = Client(Options("dev-a"));
    ASSERT_TRUE(dev->Subscribe(topics::DesiredTopic("dev-a"), 1).ok());
    ASSERT_TRUE(dev->Disconnect().ok());
  }
  auto server = Client(Options("vqi-server"));
  ASSERT_TRUE(server->Publish(topics::DesiredTopic("dev-a"), "offline-1").ok());
  ASSERT_TRUE(server->Publish(topics::DesiredTopic("dev-a"), "offline-2").ok());
  ASSERT_TRUE(server->Disconnect(2000).ok());
  // The broker restarts in between: the session and its queue survive (persistence true).
  ASSERT_TRUE(broker_->Restart().ok()) << broker_->Log();
  Inbox inbox;
  auto dev = Client(Options("dev-a"), &inbox);  // no Subscribe: the session has it
  auto got = inbox.WaitFor(2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].payload, "offline-1");
  EXPECT_EQ(got[1].payload, "offline-2");
  EXPECT_FALSE(got[0].retained);
}

TEST_F(MqttTest, DeviceCannotReadOrPublishOnAnotherDevicesTopics) {
  Inbox server_inbox, a_inbox, b_inbox;
  auto server = Client(Options("vqi-server"), &server_inbox);
  ASSERT_TRUE(server->Subscribe("vqi/#", 1).ok());
  auto b = Client(Options("dev-b"), &b_inbox);
  ASSERT_TRUE(b->Subscribe(topics::DesiredTopic("dev-b"), 1).ok());
  auto a = Client(Options("dev-a"), &a_inbox);

  // Reading: Mosquitto 2.0.11's acl_file does not refuse a v3.1.1 SUBSCRIBE (it grants it and
  // checks read access on every delivery instead), so A may subscribe to B's topics and to
  // wildcards but must receive nothing of B's. A broker that refuses (0x80) makes Subscribe
  // return PermissionDenied; both outcomes are accepted here, a delivery is not.
  for (const std::string& filter :
       {topics::DesiredTopic("dev-b"), topics::StatusTopic("dev-b"), std::string("vqi/#"),
        std::string("vqi/v1/things/+/desired"), std::string("#")}) {
    Status s = a->Subscribe(filter, 1);
    EXPECT_TRUE(s.ok() || s.code() == StatusCode::kPermissionDenied)
        << filter << ": " << s.ToString();
  }
  ASSERT_TRUE(server->Publish(topics::DesiredTopic("dev-b"), "for-b-only", 1, true).ok());
  ASSERT_EQ(b_inbox.WaitFor(1).size(), 1u);

  // Writing: the broker drops it. Nor may a device forge its own desired state.
  ASSERT_TRUE(a->Publish(topics::DesiredTopic("dev-b"), "forged", 1, true).ok());
  ASSERT_TRUE(a->Publish(topics::StatusTopic("dev-b"), "forged").ok());
  ASSERT_TRUE(a->Publish(topics::ResultsTopic("dev-b", "c.d"), "forged").ok());
  ASSERT_TRUE(a->Publish(topics::DesiredTopic("dev-a"), "forged", 1, true).ok());
  // Its own topics work; the broker keeps order, so when this arrives the others would have.
  ASSERT_TRUE(a->Publish(topics::StatusTopic("dev-a"), "mine").ok());
  auto got = server_inbox.WaitFor(2);
  ASSERT_TRUE(a->Disconnect(2000).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  got = server_inbox.Now();
  ASSERT_EQ(got.size(), 2u) << got.back().topic << " " << got.back().payload;
  EXPECT_EQ(got[0].payload, "for-b-only");
  EXPECT_EQ(got[1].topic, topics::StatusTopic("dev-a"));
  EXPECT_EQ(got[1].payload, "mine");
  ASSERT_EQ(b_inbox.Now().size(), 1u);
  EXPECT_EQ(b_inbox.Now()[0].payload, "for-b-only");
  EXPECT_TRUE(a_inbox.Now().empty()) << a_inbox.Now()[0].topic;
  // A device that connects later gets B's real retained state, no forgery.
  ASSERT_TRUE(b->Disconnect().ok());  // one connection per client id (else they take turns)
  Inbox late;
  auto b2 = Client(Options("dev-b"), &late);
  ASSERT_TRUE(b2->Subscribe(topics::DesiredTopic("dev-b"), 1).ok());
  ASSERT_EQ(late.WaitFor(1).size(), 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_EQ(late.Now().size(), 1u);
  EXPECT_EQ(late.Now()[0].payload, "for-b-only");
}

TEST_F(MqttTest, RevokedCertificateCannotConnectOnceTheBrokerReadTheCrl) {
  Identity("dev-c");
  auto before = Client(Options("dev-c"));  // works before the revocation
  ASSERT_TRUE(before->Disconnect().ok());

  auto revoked = pki::Revoke(ca_, "dev-c", pki::RevocationReason::kKeyCompromise);
  ASSERT_TRUE(revoked.ok()) << revoked.status().ToString();
  ASSERT_TRUE(pki::WriteCrl(ca_).ok());
  ASSERT_TRUE(broker_->Reload().ok());  // SIGHUP re-reads the CRL (Mosquitto 2.0.11)

  std::mutex mu;  // declared before the client: its thread calls the handler until it ends
  Status last;
  auto dev = Client(Options("dev-c"), nullptr, /*connect=*/false);
  dev->OnState([&](ConnectionState, const Status& error) {
    std::lock_guard lock(mu);
    if (!error.ok()) last = error;
  });
  ASSERT_TRUE(dev->Connect().ok());
  Status s = dev->WaitConnected(1500);
  EXPECT_EQ(s.code(), StatusCode::kDeadlineExceeded) << s.ToString();
  EXPECT_EQ(dev->Stats().connects, 0u);
  {
    std::lock_guard lock(mu);
    EXPECT_FALSE(last.ok());  // the state callback explained why
  }
  EXPECT_EQ(RawConnect(broker_->port(), ca_.CertPath(), dir_.path() + "/dev-c/cert.pem",
                       dir_.path() + "/dev-c/key.pem"),
            -1);
  // Others are unaffected.
  auto other = Client(Options("dev-a"));
  EXPECT_EQ(other->state(), ConnectionState::kConnected);
}

TEST_F(MqttTest, RestartDisconnectsARevokedDeviceThatWasConnected) {
  Identity("dev-c");
  auto dev = Client(Options("dev-c"));
  ASSERT_TRUE(pki::Revoke(ca_, "dev-c", pki::RevocationReason::kSuperseded).ok());
  ASSERT_TRUE(pki::WriteCrl(ca_).ok());
  // A reload alone leaves an established connection alone (documented): hence the restart.
  ASSERT_TRUE(broker_->Reload().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(dev->state(), ConnectionState::kConnected);
  ASSERT_TRUE(broker_->Restart().ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));  // several reconnect attempts
  EXPECT_NE(dev->state(), ConnectionState::kConnected);
  EXPECT_EQ(dev->Stats().connects, 1u);
  auto a = Client(Options("dev-a"));  // a valid device reconnects fine
  EXPECT_EQ(a->state(), ConnectionState::kConnected);
}

TEST_F(MqttTest, NoCertificateOrAForeignCaIsRefused) {
  const std::string ca = ca_.CertPath();
  // Control: the same raw client with a certificate gets a CONNACK.
  EXPECT_EQ(RawConnect(broker_->port(), ca, dir_.path() + "/dev-a/cert.pem",
                       dir_.path() + "/dev-a/key.pem"),
            0x20);
  EXPECT_EQ(RawConnect(broker_->port(), ca, "", ""), -1);

  auto foreign = pki::CreateCa(dir_.path() + "/foreign", "foreign");
  ASSERT_TRUE(foreign.ok());
  auto issued = pki::IssueCertificate(*foreign, {"dev-a", pki::CertKind::kClient, {}, {}, 30});
  ASSERT_TRUE(issued.ok());
  ASSERT_TRUE(pki::WriteIssued(dir_.path() + "/foreign-dev", *issued).ok());
  MqttOptions o = Options("dev-a");
  o.cert_file = dir_.path() + "/foreign-dev/cert.pem";
  o.key_file = dir_.path() + "/foreign-dev/key.pem";
  auto dev = Client(o, nullptr, false);
  ASSERT_TRUE(dev->Connect().ok());
  EXPECT_EQ(dev->WaitConnected(1000).code(), StatusCode::kDeadlineExceeded);
}

TEST_F(MqttTest, OversizedAndGarbageMessagesAreCountedAndDropped) {
  Inbox inbox;
  MqttOptions o = Options("dev-a");
  o.max_payload_bytes = 1024;
  auto dev = Client(o, nullptr, false);
  dev->OnMessage(inbox.Handler([](const MqttMessage& m) {
    return !m.payload.empty() && m.payload[0] == '{' ? Status::Ok()
                                                     : InvalidArgument("not a JSON object");
  }));
  ASSERT_TRUE(dev->Connect().ok());
  ASSERT_TRUE(dev->WaitConnected(5000).ok());
  ASSERT_TRUE(dev->Subscribe(topics::DesiredTopic("dev-a"), 1).ok());
  auto server = Client(Options("vqi-server"));
  const std::string desired = topics::DesiredTopic("dev-a");
  ASSERT_TRUE(server->Publish(desired, "{" + std::string(2000, 'x') + "}").ok());
  ASSERT_TRUE(server->Publish(desired, std::string("\xff\x00garbage", 9)).ok());
  ASSERT_TRUE(server->Publish(desired, R"({"sequence":1})").ok());
  auto got = inbox.WaitFor(1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, R"({"sequence":1})");
  // The counters move right after the handler returns.
  for (int i = 0; i < 100 && dev->Stats().received == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  MqttStats stats = dev->Stats();
  EXPECT_EQ(stats.dropped_oversized, 1u);
  EXPECT_EQ(stats.rejected, 1u);
  EXPECT_EQ(stats.received, 1u);
  EXPECT_EQ(dev->state(), ConnectionState::kConnected);
  // Publishing more than the limit is refused up front.
  EXPECT_EQ(dev->Publish(topics::StatusTopic("dev-a"), std::string(1025, 'x')).code(),
            StatusCode::kResourceExhausted);
}

TEST_F(MqttTest, OfflineQueueIsBoundedAndDeliveredOnConnect) {
  Inbox server_inbox;
  auto server = Client(Options("vqi-server"), &server_inbox);
  ASSERT_TRUE(server->Subscribe(topics::AllHealth(), 1).ok());
  MqttOptions o = Options("dev-a");
  o.max_queued = 3;
  auto dev = Client(o, nullptr, /*connect=*/false);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(dev->Publish(topics::HealthTopic("dev-a"), "beat-" + std::to_string(i)).ok());
  Status full = dev->Publish(topics::HealthTopic("dev-a"), "beat-3");
  EXPECT_EQ(full.code(), StatusCode::kResourceExhausted) << full.ToString();
  EXPECT_EQ(dev->Stats().queued, 3u);
  ASSERT_TRUE(dev->Connect().ok());
  auto got = server_inbox.WaitFor(3);
  ASSERT_EQ(got.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(got[i].payload, "beat-" + std::to_string(i));
  EXPECT_TRUE(dev->Disconnect(2000).ok());
  EXPECT_EQ(dev->Stats().queued, 0u);
}

TEST_F(MqttTest, ClientsReconnectByThemselvesAndNothingPublishedMeanwhileIsLost) {
  Inbox server_inbox;
  std::mutex mu;  // before the clients: their threads call the handler
  std::vector<ConnectionState> states;
  std::vector<Status> errors;
  auto server = Client(Options("vqi-server"), &server_inbox);
  ASSERT_TRUE(server->Subscribe(topics::AllHealth(), 1).ok());
  auto dev = Client(Options("dev-a"), nullptr, false);
  dev->OnState([&](ConnectionState s, const Status& e) {
    std::lock_guard lock(mu);
    states.push_back(s);
    if (!e.ok()) errors.push_back(e);
  });
  ASSERT_TRUE(dev->Connect().ok());
  ASSERT_TRUE(dev->WaitConnected(5000).ok());

  broker_->Stop();
  for (int i = 0; i < 50 && dev->state() == ConnectionState::kConnected; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_NE(dev->state(), ConnectionState::kConnected);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(dev->Publish(topics::HealthTopic("dev-a"), "beat-" + std::to_string(i)).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // a few failed attempts
  ASSERT_TRUE(broker_->Restart().ok()) << broker_->Log();

  Status up = dev->WaitConnected(5000);
  ASSERT_TRUE(up.ok()) << up.ToString() << "\n" << broker_->Log();
  ASSERT_TRUE(server->WaitConnected(5000).ok());
  auto got = server_inbox.WaitFor(3);  // the server's session kept its subscription
  ASSERT_EQ(got.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(got[i].payload, "beat-" + std::to_string(i));
  EXPECT_EQ(dev->Stats().connects, 2u);
  std::lock_guard lock(mu);
  ASSERT_FALSE(errors.empty());
  // Lost, then refused while the broker was down: each attempt failed fast with a reason.
  for (const Status& e : errors) EXPECT_EQ(e.code(), StatusCode::kUnavailable) << e.ToString();
  EXPECT_NE(std::find(states.begin(), states.end(), ConnectionState::kReconnecting), states.end());
  EXPECT_EQ(states.back(), ConnectionState::kConnected);
}

TEST_F(MqttTest, BadOptionsAreRefused) {
  MqttOptions o = Options("dev-a");
  o.client_id = "dev/+";
  EXPECT_EQ(MqttClient::Create(o).status().code(), StatusCode::kInvalidArgument);
  o = Options("dev-a");
  o.cert_file = dir_.path() + "/missing.pem";
  EXPECT_EQ(MqttClient::Create(o).status().code(), StatusCode::kNotFound);
  o = Options("dev-a");
  o.port = 0;
  EXPECT_EQ(MqttClient::Create(o).status().code(), StatusCode::kInvalidArgument);
  auto c = MqttClient::Create(Options("dev-a"));
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->Publish("vqi/+/x", "p").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*c)->Publish("", "p").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace vqi::transport
