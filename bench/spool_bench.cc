// Issue 20, acceptance 8 (part): the agent's outbound spool and component IPC. Prints one JSON
// line per measurement:
//   spool_append      10,000 result-sized messages appended (fsync each): rate, mean, p95
//   spool_disk        bytes of the messages and bytes on disk (blocks) for those 10,000
//   spool_deliver     the 10,000 sent to a real Mosquitto (mTLS, QoS 1) and received by a
//                     subscriber, removed after PUBACK: rate
//   ipc_publish       PublishToIoTCore through IpcServer/IpcClient (spool fsync included)
//
//   build/<dir>/bench/spool_bench [--quick]
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "transport/testing/broker.h"
#include "vqi/agent/ipc_server.h"
#include "vqi/agent/spool.h"
#include "vqi/agent/spool_sender.h"
#include "vqi/ipc_client/client.h"
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

double Ms(SteadyClock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Pct(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

// A result the size of vqi-inspect's (docs/design/inspect.md): three detections.
Json SampleResult(int i) {
  Json dets = Json::array();
  for (int k = 0; k < 3; ++k)
    dets.push_back({{"class", "scratch"}, {"confidence", 0.8123}, {"box", {12, 40, 96, 130}}});
  return {
      {"schema", "vqi-result/1"},
      {"thing", "dev-1"},
      {"model", {{"name", "vqi.model.pcb"}, {"version", "1.2.0"}}},
      {"image",
       {{"id", "sha256:" + std::string(64, 'a')}, {"name", "img-" + std::to_string(i) + ".jpg"}}},
      {"timestamp", "2026-12-06T11:00:00.123Z"},
      {"detections", dets},
      {"inference_results", dets},
      {"verdict", "fail"},
      {"timings", {{"decodeMs", 3.1}, {"modelMs", 41.7}, {"totalMs", 46.0}}}};
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int n = quick ? 1000 : 10000;
  if (!transport::testing::MosquittoAvailable()) {
    std::fprintf(stderr, "spool_bench: mosquitto missing, skipped\n");
    return 0;
  }
  std::string tmpl = (fs::temp_directory_path() / "vqi-spool-bench-XXXXXX").string();
  const std::string dir = ::mkdtemp(tmpl.data());
  const std::string topic = transport::topics::ResultsTopic("dev-1", "com.example.Inspect");

  // 1. Append.
  agent::SpoolOptions so;
  so.dir = dir + "/spool";
  so.max_messages = 100000;
  so.max_bytes = 1ull << 30;
  auto spool = agent::Spool::Open(so);
  if (!spool.ok()) Die("Spool::Open", spool.status());
  std::vector<double> ms;
  const auto t0 = SteadyClock::now();
  for (int i = 0; i < n; ++i) {
    const auto a = SteadyClock::now();
    auto id = (*spool)->Append(topic, "com.example.Inspect", SampleResult(i));
    if (!id.ok()) Die("Append", id.status());
    ms.push_back(Ms(SteadyClock::now() - a));
  }
  const double total_s = Ms(SteadyClock::now() - t0) / 1000;
  std::printf(
      "{\"op\":\"spool_append\",\"n\":%d,\"per_s\":%.0f,\"mean_ms\":%.3f,\"p95_ms\":%.3f}\n", n,
      n / total_s, total_s * 1000 / n, Pct(ms, 0.95));
  uint64_t blocks = 0;
  for (const auto& e : fs::directory_iterator(so.dir)) {
    struct stat st {};
    if (::stat(e.path().c_str(), &st) == 0) blocks += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  std::printf("{\"op\":\"spool_disk\",\"n\":%d,\"message_bytes\":%llu,\"disk_bytes\":%llu}\n", n,
              static_cast<unsigned long long>((*spool)->Stats().bytes),
              static_cast<unsigned long long>(blocks));
  std::fflush(stdout);

  // 2. Deliver through a real broker.
  auto ca = pki::CreateCa(dir + "/pki", "bench CA");
  if (!ca.ok()) Die("CreateCa", ca.status());
  auto srv = pki::IssueCertificate(
      *ca, {"vqi-broker", pki::CertKind::kServer, {"localhost"}, {"127.0.0.1"}, 30});
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
    return o;
  };
  std::mutex mu;
  std::condition_variable cv;
  int received = 0;
  uint64_t payload_bytes = 0;
  auto server = transport::MqttClient::Create(options("vqi-server"));
  if (!server.ok()) Die("Create", server.status());
  (*server)->OnMessage([&](const transport::MqttMessage& m) {
    std::lock_guard lock(mu);
    ++received;
    payload_bytes += m.payload.size();
    cv.notify_all();
    return Status::Ok();
  });
  if (Status s = (*server)->Connect(); !s.ok()) Die("Connect", s);
  if (Status s = (*server)->WaitConnected(5000); !s.ok()) Die("WaitConnected", s);
  if (Status s = (*server)->Subscribe(transport::topics::AllResults(), 1); !s.ok()) Die("Sub", s);
  auto dev = transport::MqttClient::Create(options("dev-1"));
  if (!dev.ok()) Die("Create", dev.status());
  if (Status s = (*dev)->Connect(); !s.ok()) Die("Connect", s);
  if (Status s = (*dev)->WaitConnected(5000); !s.ok()) Die("WaitConnected", s);
  {
    agent::SpoolSender sender(**spool, **dev, 16);
    const auto d0 = SteadyClock::now();
    sender.Pump();
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(120), [&] { return received >= n; });
    const double s = Ms(SteadyClock::now() - d0) / 1000;
    lock.unlock();
    for (int i = 0; i < 200 && (*spool)->Stats().messages > 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::printf(
        "{\"op\":\"spool_deliver\",\"n\":%d,\"received\":%d,\"per_s\":%.0f,"
        "\"payload_bytes\":%llu,\"left_in_spool\":%zu}\n",
        n, received, received / s, static_cast<unsigned long long>(payload_bytes),
        (*spool)->Stats().messages);
    (void)(*dev)->Disconnect(2000);
  }
  std::fflush(stdout);

  // 3. IPC PublishToIoTCore (into the spool, fsync included).
  agent::IpcServerOptions io;
  io.socket_path = dir + "/ipc.sock";
  io.thing = "dev-1";
  auto ipc_server = agent::IpcServer::Start(io, spool->get());
  if (!ipc_server.ok()) Die("IpcServer", ipc_server.status());
  const std::string token =
      (*ipc_server)
          ->Register({"com.example.Inspect",
                      Json::parse(R"({"accessControl": {"aws.greengrass.ipc.mqttproxy": {"p": {
         "operations": ["*"], "resources": ["vqi/v1/results/dev-1/com.example.Inspect"]}}}})"),
                      ""});
  auto client = ipc::IpcClient::Connect(io.socket_path, token);
  if (!client.ok()) Die("IpcClient", client.status());
  ms.clear();
  const int m = quick ? 200 : 2000;
  for (int i = 0; i < m; ++i) {
    const auto a = SteadyClock::now();
    auto id = (*client)->PublishToIoTCore(topic, SampleResult(i));
    if (!id.ok()) Die("PublishToIoTCore", id.status());
    ms.push_back(Ms(SteadyClock::now() - a));
  }
  std::printf("{\"op\":\"ipc_publish\",\"n\":%d,\"p50_ms\":%.3f,\"p95_ms\":%.3f}\n", m,
              Pct(ms, 0.5), Pct(ms, 0.95));
  (*ipc_server)->Stop();
  fs::remove_all(dir);
  return 0;
}
