// The fixture of the real-broker MqttClient tests: a CA (libs/pki), a broker certificate, the
// identities vqi-server, dev-a, dev-b, and a Mosquitto with the generated configuration.
#pragma once

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
#include "vqi/transport/mqtt_client.h"
#include "vqi/transport/topics.h"

namespace vqi::transport::mqtt_testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "vqi-mqtt-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
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
inline int RawConnect(int port, const std::string& ca, const std::string& cert,
                      const std::string& key) {
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

}  // namespace vqi::transport::mqtt_testing
