// Results over MQTT into SQLite (libs/results MqttResultsIngest): a real Mosquitto (TLS, vqi's
// ACL), D devices with their own certificates publishing N results each (QoS 1), timed from the
// first publish until all are in the store.
//   results_mqtt_bench [N per device=5000] [D=4] [UPLOAD_KB=0]
// With UPLOAD_KB > 0 the devices publish uploads instead (…/vqi.inspect/upload, a BMP of about
// that size each, as the agent's spool sends them) into the unlabelled pool (UploadIngestor).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "transport/testing/broker.h"
#include "vqi/base/hash.h"
#include "vqi/base/json.h"
#include "vqi/fleet/identity.h"
#include "vqi/fleet/store.h"
#include "vqi/ipc_client/frame.h"
#include "vqi/pki/pki.h"
#include "vqi/results/mqtt_ingest.h"
#include "vqi/results/upload_ingest.h"
#include "vqi/transport/mqtt_client.h"

using namespace vqi;

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 5000;
  const int devices = argc > 2 ? std::atoi(argv[2]) : 4;
  const int upload_kb = argc > 3 ? std::atoi(argv[3]) : 0;
  std::string home =
      (std::filesystem::temp_directory_path() / "results-mqtt-bench-XXXXXX").string();
  if (!::mkdtemp(home.data())) return 1;
  auto ca = fleet::OpenOrCreateCa(home);
  if (!ca.ok()) return 1;
  auto srv = pki::IssueCertificate(
      *ca, {"vqi-broker", pki::CertKind::kServer, {"localhost"}, {"127.0.0.1"}, 30});
  if (!srv.ok() || !pki::WriteIssued(home + "/broker-tls", *srv).ok()) return 1;
  transport::testing::BrokerOptions bo;
  bo.dir = home + "/mosquitto";
  bo.ca_file = ca->CertPath();
  bo.server_cert_file = home + "/broker-tls/cert.pem";
  bo.server_key_file = home + "/broker-tls/key.pem";
  bo.crl_file = ca->CrlPath();
  auto broker = transport::testing::StartBroker(bo);
  if (!broker.ok()) {
    std::fprintf(stderr, "%s\n", broker.status().ToString().c_str());
    return 1;
  }
  auto fleet = fleet::OpenSqliteFleetStore(fleet::FleetDbPath(home));
  if (!fleet.ok()) return 1;
  std::vector<std::unique_ptr<transport::MqttClient>> devs;
  for (int d = 0; d < devices; ++d) {
    const std::string name = "cam-" + std::to_string(d);
    if (!(*fleet)->CreateThing(name).ok()) return 1;
    auto issued = pki::IssueCertificate(*ca, {name, pki::CertKind::kClient, {}, {}, 30});
    if (!issued.ok() || !pki::WriteIssued(home + "/devices/" + name, *issued).ok()) return 1;
    transport::MqttOptions o;
    o.port = (*broker)->port();
    o.client_id = name;
    o.ca_file = ca->CertPath();
    o.cert_file = home + "/devices/" + name + "/cert.pem";
    o.key_file = home + "/devices/" + name + "/key.pem";
    o.max_queued = static_cast<size_t>(n) + 10;
    o.max_inflight = 100;
    auto c = transport::MqttClient::Create(o);
    if (!c.ok() || !(*c)->Connect().ok() || !(*c)->WaitConnected(10000).ok()) return 1;
    devs.push_back(std::move(*c));
  }
  results::MqttIngestOptions mo;
  mo.home = home;
  mo.mqtt_port = (*broker)->port();
  mo.ingest.rate_per_second = 100000;
  mo.ingest.burst = 1000000;
  mo.max_inbox = 1000000;
  std::shared_ptr<results::UploadIngestor> uploads;
  if (upload_kb > 0) {
    results::UploadIngestOptions uo;
    uo.home = home;
    auto u = results::UploadIngestor::Open(uo);
    if (!u.ok()) return 1;
    uploads = *u;
    mo.ingest.sub_handlers["upload"] = uploads;
  }
  auto ingest = results::MqttResultsIngest::Create(mo);
  if (!ingest.ok() || !(*ingest)->Start().ok() || !(*ingest)->WaitReady(10000).ok()) return 1;
  // Payloads prepared first (what vqi-inspect publishes: ~1.1 KB).
  std::vector<std::vector<std::string>> payloads(devices);
  for (int d = 0; d < devices; ++d)
    for (int i = 0; i < n; ++i) {
      const std::string thing = "cam-" + std::to_string(d);
      char id[17];
      std::snprintf(id, sizeof id, "%016x", i);
      Json j{{"schema", "vqi.inspect.result/1"},
             {"id", thing + ":" + std::string(48, 'a') + id},
             {"thing", thing},
             {"component", "vqi.inspect"},
             {"model", {{"name", "metal-tags"}, {"version", "1.4.0"}}},
             {"image", {{"name", "img_" + std::to_string(i) + ".jpg"}}},
             {"verdict", "pass"},
             {"uncertain", false},
             {"best_score", 0.1},
             {"detections", Json::array()},
             {"pad", std::string(800, 'x')},
             {"timings_ms", {{"model", 14.5}, {"total", 16.4}}}};
      if (upload_kb <= 0) {
        payloads[d].push_back(j.dump());
        continue;
      }
      // A 24-bit BMP of ~upload_kb KiB, distinct per (device, i).
      const int w = 128, h = upload_kb * 1024 / (w * 3);
      std::string b(54 + static_cast<size_t>(w * 3 * h), '\0');
      auto put32 = [&](size_t at, uint32_t v) {
        for (int k = 0; k < 4; ++k) b[at + k] = static_cast<char>((v >> (8 * k)) & 0xff);
      };
      b[0] = 'B';
      b[1] = 'M';
      put32(2, static_cast<uint32_t>(b.size()));
      put32(10, 54);
      put32(14, 40);
      put32(18, w);
      put32(22, static_cast<uint32_t>(h));
      b[26] = 1;
      b[28] = 24;
      put32(34, static_cast<uint32_t>(w * 3 * h));
      for (size_t k = 54; k < b.size(); ++k)
        b[k] = static_cast<char>((k * 31 + static_cast<size_t>(i) * 7 + d * 13) & 0xff);
      const std::string sha = Sha256Hex(b);
      payloads[d].push_back(Json{{"kind", "upload"},
                                 {"thing", thing},
                                 {"component", "vqi.inspect"},
                                 {"name", "img_" + std::to_string(i) + ".bmp"},
                                 {"contentType", "image/bmp"},
                                 {"size", b.size()},
                                 {"sha256", sha},
                                 {"metadata",
                                  {{"modelName", "metal-tags"},
                                   {"modelVersion", "1.4.0"},
                                   {"resultId", thing + ":" + sha},
                                   {"bestScore", 0.4}}},
                                 {"dataBase64", ipc::Base64Encode(b)},
                                 {"vqiMessageId", "b-" + std::to_string(i)}}
                                .dump());
    }
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pubs;
  for (int d = 0; d < devices; ++d)
    pubs.emplace_back([&, d] {
      const std::string topic = "vqi/v1/results/cam-" + std::to_string(d) + "/vqi.inspect" +
                                (upload_kb > 0 ? "/upload" : "");
      for (const auto& p : payloads[d])
        while (!devs[d]->Publish(topic, p).ok())
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
  for (auto& t : pubs) t.join();
  const uint64_t want = static_cast<uint64_t>(n) * devices;
  // Until all are stored, or nothing new for 2 s (the broker dropped the rest: its per-client
  // queue, max_queued_messages, overflowed).
  uint64_t last = 0;
  auto t_last = std::chrono::steady_clock::now();
  auto stored = [&] {
    auto st = (*ingest)->Stats().ingest;
    return upload_kb > 0 ? st.sub["upload"].handled : st.stored;
  };
  while (stored() < want) {
    const uint64_t now_stored = stored();
    if (now_stored != last) {
      last = now_stored;
      t_last = std::chrono::steady_clock::now();
    } else if (std::chrono::steady_clock::now() - t_last > std::chrono::seconds(2)) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (stored() == want) t_last = std::chrono::steady_clock::now();
  const double s = std::chrono::duration<double>(t_last - t0).count();
  auto st = (*ingest)->Stats();
  const uint64_t got = stored();
  if (upload_kb > 0) {
    std::printf(
        "results_mqtt_bench: %d devices x %d uploads (QoS 1, TLS, %d KiB BMP, message %zu B): "
        "stored %llu in %.2f s = %.0f uploads/s (inbox dropped %llu, refused %llu)\n",
        devices, n, upload_kb, payloads[0][0].size(), static_cast<unsigned long long>(got), s,
        static_cast<double>(got) / s, static_cast<unsigned long long>(st.inbox_dropped),
        static_cast<unsigned long long>(st.ingest.sub["upload"].refused));
    (*ingest)->Stop();
    for (auto& d : devs) (void)d->Disconnect(1000);
    broker->reset();
    std::filesystem::remove_all(home);
    return got == want ? 0 : 1;
  }
  std::printf(
      "results_mqtt_bench: %d devices x %d results (QoS 1, TLS, ~1.1 KB): stored %llu in "
      "%.2f s = %.0f msgs/s (inbox dropped %llu)\n",
      devices, n, static_cast<unsigned long long>(st.ingest.stored), s,
      static_cast<double>(st.ingest.stored) / s, static_cast<unsigned long long>(st.inbox_dropped));
  (*ingest)->Stop();
  for (auto& d : devs) (void)d->Disconnect(1000);
  broker->reset();
  if (!std::getenv("RESULTS_BENCH_KEEP"))
    std::filesystem::remove_all(home);
  else
    std::printf("kept %s\n", home.c_str());
  return st.ingest.stored == want ? 0 : 1;
}
