// The MQTT control channel on loopback against a real Mosquitto with mutual TLS (P-256
// certificates from libs/pki): connect time (Connect -> CONNACK), QoS 1 round trip device ->
// broker -> server (sequential), a QoS 1 burst, and the resident memory one connected client
// adds. Prints one JSON line per measurement.
//
//   build/<dir>/bench/mqtt_bench [--quick]
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include "transport/testing/broker.h"
#include "vqi/pki/pki.h"
#include "vqi/transport/mqtt_client.h"
#include "vqi/transport/topics.h"

namespace fs = std::filesystem;
using namespace vqi;
using SteadyClock = std::chrono::steady_clock;

namespace {

[[noreturn]] void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "%s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

long RssKb() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return -1;
}

double Ms(SteadyClock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  if (!transport::testing::MosquittoAvailable()) {
    std::fprintf(stderr, "mqtt_bench: %s missing, skipped\n", transport::testing::kMosquittoPath);
    return 0;
  }
  std::string tmpl = (fs::temp_directory_path() / "vqi-mqtt-bench-XXXXXX").string();
  const std::string dir = ::mkdtemp(tmpl.data());
  auto ca = pki::CreateCa(dir + "/pki", "bench CA");
  if (!ca.ok()) Die("CreateCa", ca.status());
  auto srv = pki::IssueCertificate(*ca, {"vqi-broker", pki::CertKind::kServer, {"localhost"},
                                         {"127.0.0.1"}, 30});
  if (!srv.ok() || !pki::WriteIssued(dir + "/broker", *srv).ok()) Die("broker cert", srv.status());
  for (const char* name : {"vqi-server", "dev-1"}) {
    auto c = pki::IssueCertificate(*ca, {name, pki::CertKind::kClient, {}, {}, 30});
    if (!c.ok() || !pki::WriteIssued(dir + "/" + name, *c).ok()) Die("client cert", c.status());
  }
  transport::testing::BrokerOptions bo;
  bo.dir = dir + "/mosquitto";
  bo.ca_file = ca->CertPath();
  bo.server_cert_file = dir + "/broker/cert.pem";
  bo.server_key_file = dir + "/broker/key.pem";
  bo.crl_file = ca->CrlPath();
  auto broker = transport::testing::StartBroker(bo);
  if (!broker.ok()) Die("StartBroker", broker.status());
  auto options = [&](const std::string& name) {
    transport::MqttOptions o;
    o.host = (*broker)->host();
    o.port = (*broker)->port();
    o.client_id = name;
    o.ca_file = ca->CertPath();
    o.cert_file = dir + "/" + name + "/cert.pem";
    o.key_file = dir + "/" + name + "/key.pem";
    o.max_queued = 100000;
    return o;
  };

  // Connect time and memory of one client.
  const int connects = quick ? 5 : 20;
  std::vector<double> connect_ms;
  long rss_delta_kb = 0;
  for (int i = 0; i < connects; ++i) {
    const long rss0 = RssKb();
    auto c = transport::MqttClient::Create(options("dev-1"));
    if (!c.ok()) Die("Create", c.status());
    const auto t0 = SteadyClock::now();
    if (Status s = (*c)->Connect(); !s.ok()) Die("Connect", s);
    if (Status s = (*c)->WaitConnected(5000); !s.ok()) Die("WaitConnected", s);
    connect_ms.push_back(Ms(SteadyClock::now() - t0));
    if (i == 0) rss_delta_kb = RssKb() - rss0;  // the first: includes OpenSSL and libmosquitto set-up
    (void)(*c)->Disconnect(1000);
  }
  std::printf("{\"op\":\"connect_mtls\",\"n\":%d,\"p50_ms\":%.2f,\"max_ms\":%.2f}\n", connects,
              Pct(connect_ms, 0.5), Pct(connect_ms, 1.0));
  std::printf("{\"op\":\"first_client_rss_delta\",\"kb\":%ld}\n", rss_delta_kb);
  std::fflush(stdout);

  // QoS 1 round trip and burst: dev-1 -> broker -> vqi-server.
  std::mutex mu;
  std::condition_variable cv;
  size_t received = 0;
  auto server = transport::MqttClient::Create(options("vqi-server"));
  if (!server.ok()) Die("Create", server.status());
  (*server)->OnMessage([&](const transport::MqttMessage&) {
    std::lock_guard lock(mu);
    ++received;
    cv.notify_all();
    return Status::Ok();
  });
  if (Status s = (*server)->Connect(); !s.ok()) Die("Connect", s);
  if (Status s = (*server)->WaitConnected(5000); !s.ok()) Die("WaitConnected", s);
  if (Status s = (*server)->Subscribe(transport::topics::AllStatus(), 1); !s.ok())
    Die("Subscribe", s);
  auto dev = transport::MqttClient::Create(options("dev-1"));
  if (!dev.ok()) Die("Create", dev.status());
  if (Status s = (*dev)->Connect(); !s.ok()) Die("Connect", s);
  if (Status s = (*dev)->WaitConnected(5000); !s.ok()) Die("WaitConnected", s);
  const std::string topic = transport::topics::StatusTopic("dev-1");
  const std::string payload(300, 'x');  // about a status report
  auto wait_for = [&](size_t n) {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(30), [&] { return received >= n; });
  };
  const int round_trips = quick ? 200 : 1000;
  std::vector<double> rtt;
  for (int i = 0; i < round_trips; ++i) {
    const auto t0 = SteadyClock::now();
    if (Status s = (*dev)->Publish(topic, payload); !s.ok()) Die("Publish", s);
    if (!wait_for(static_cast<size_t>(i + 1))) Die("round trip", DeadlineExceeded("no delivery"));
    rtt.push_back(Ms(SteadyClock::now() - t0));
  }
  std::printf("{\"op\":\"qos1_publish_to_delivery\",\"n\":%d,\"p50_ms\":%.3f,\"p99_ms\":%.3f}\n",
              round_trips, Pct(rtt, 0.5), Pct(rtt, 0.99));
  const int burst = quick ? 2000 : 10000;
  const size_t base = received;
  const auto t0 = SteadyClock::now();
  for (int i = 0; i < burst; ++i) {
    if (Status s = (*dev)->Publish(topic, payload); !s.ok()) Die("Publish", s);
  }
  if (!wait_for(base + burst)) Die("burst", DeadlineExceeded("not all delivered"));
  const double s = Ms(SteadyClock::now() - t0) / 1000;
  std::printf("{\"op\":\"qos1_burst\",\"n\":%d,\"seconds\":%.3f,\"per_second\":%.0f}\n", burst, s,
              burst / s);
  (void)(*dev)->Disconnect(2000);
  (void)(*server)->Disconnect(2000);
  broker->reset();
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
