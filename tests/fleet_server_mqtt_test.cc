// Issue 19, acceptance 2 with the real `vqi server` process: `vqi server --mqtt --tls-auto`
// runs the fleet controller; `vqi thing create` writes the bundles; 20 simulated devices
// (libs/fleet/testing/sim_device.h: real MQTT, each with its bundle's certificate) connect to a
// real Mosquitto; `vqi deployment create` in another process only writes the store and the
// running server publishes; heartbeats reach `vqi thing show`; HTTPS verifies with the bundle's
// ca.pem; a server killed with SIGKILL picks up at its next start what was created meanwhile.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "fleet/testing/sim_device.h"
#include "run_vqi.h"
#include "server_process.h"
#include "transport/testing/broker.h"
#include "vqi/base/file.h"
#include "vqi/base/json.h"
#include "vqi/base/testing/free_port.h"
#include "vqi/component/recipe.h"
#include "vqi/component/store.h"
#include "vqi/pki/pki.h"

namespace {

namespace fs = std::filesystem;
namespace fl = vqi::fleet;
using Steady = std::chrono::steady_clock;

constexpr int kThings = 20;
constexpr const char* kModel = "com.acme.Model";

std::string Name(int i) {
  char b[16];
  std::snprintf(b, sizeof b, "cam-%02d", i);
  return b;
}

int FreePort() { return vqi::testing::FreeLoopbackPort(); }

class FleetServerMqttTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!vqi::transport::testing::MosquittoAvailable()) GTEST_SKIP() << "mosquitto is missing";
    std::string t = (fs::temp_directory_path() / "vqi-fleet-srv-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    dir_ = t;
    home_ = dir_ + "/home";
    broker_port_ = FreePort();
    for (int i = 0; i < kThings; ++i) {
      auto r = Vqi("thing create " + Name(i) + " --group line --broker 127.0.0.1:" +
                   std::to_string(broker_port_) + " --server https://127.0.0.1:1");
      ASSERT_EQ(r.code, 0) << r.out;
    }
    auto ca = vqi::pki::OpenCa(vqi::pki::CaDir(home_));  // created by the first thing create
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    auto srv = vqi::pki::IssueCertificate(
        *ca, {"vqi-broker", vqi::pki::CertKind::kServer, {"localhost"}, {"127.0.0.1"}, 30});
    ASSERT_TRUE(srv.ok());
    ASSERT_TRUE(vqi::pki::WriteIssued(dir_ + "/broker-tls", *srv).ok());
    vqi::transport::testing::BrokerOptions bo;
    bo.dir = dir_ + "/mosquitto";
    bo.ca_file = ca->CertPath();
    bo.server_cert_file = dir_ + "/broker-tls/cert.pem";
    bo.server_key_file = dir_ + "/broker-tls/key.pem";
    bo.crl_file = ca->CrlPath();
    bo.port = broker_port_;
    auto broker = vqi::transport::testing::StartBroker(bo);
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(*broker);
    // Two versions of a component, straight into the component store (the devices are
    // simulated: only resolution reads the recipes).
    auto store = vqi::component::OpenSqliteStore(vqi::component::ComponentsDbPath(home_));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    for (const char* v : {"1.0.0", "2.0.0"}) {
      vqi::component::Recipe r;
      r.name = kModel;
      r.version = v;
      r.publisher = "Acme";
      vqi::component::Manifest m;
      m.platform = {{"os", "linux"}};
      r.manifests.push_back(m);
      vqi::component::StoredComponent c;
      c.name = kModel;
      c.version = v;
      c.publisher = "Acme";
      c.key_id = "k";
      c.recipe_json = vqi::component::RecipeToJson(r).dump();
      c.recipe_text = c.recipe_json;
      c.manifest = std::string("manifest ") + v;
      c.signature = std::string(64, 's');
      ASSERT_TRUE((*store)->Put(c).ok());
    }
  }
  void TearDown() override {
    devices_.clear();
    broker_.reset();
    std::error_code ec;
    if (!dir_.empty()) fs::remove_all(dir_, ec);
  }
  vqi::testing::CmdResult Vqi(const std::string& args) {
    return vqi::testing::RunVqi("--home '" + home_ + "' " + args);
  }
  bool StartServer(vqi::testing::ServerProcess& s) {
    // The default poll (200 ms): the latency printed below is what production sees.
    return s.Start(home_, {"--mqtt", "127.0.0.1:" + std::to_string(broker_port_), "--tls-auto",
                           "--rollout-minute-ms", "1000"});
  }
  void StartDevices() {
    for (int i = 0; i < kThings; ++i) {
      const std::string b = home_ + "/fleet/bundles/" + Name(i);
      fl::testing::SimDeviceOptions o;
      o.thing = Name(i);
      o.port = broker_port_;
      o.ca_file = b + "/ca.pem";
      o.cert_file = b + "/cert.pem";
      o.key_file = b + "/key.pem";
      auto d = fl::testing::SimDevice::Start(o);
      ASSERT_TRUE(d.ok()) << d.status().ToString() << "\n" << broker_->Log();
      devices_.push_back(std::move(*d));
    }
  }
  std::string Doc(const std::string& version, const std::string& rollout = "") {
    const std::string path = dir_ + "/dep-" + version + ".json";
    std::string text = R"({"components": {")" + std::string(kModel) +
                       R"(": {"componentVersion": ")" + version + R"("}})" +
                       (rollout.empty() ? "" : ", \"iotJobConfiguration\": " + rollout) + "}";
    EXPECT_TRUE(vqi::WriteFileAtomic(path, text).ok());
    return path;
  }
  // Waits until every device runs `version`; false at the timeout.
  bool WaitAll(const std::string& version, int timeout_ms) {
    const auto deadline = Steady::now() + std::chrono::milliseconds(timeout_ms);
    while (Steady::now() < deadline) {
      int n = 0;
      for (auto& d : devices_) {
        auto r = d->Running();
        n += r.count(kModel) && r[kModel] == version;
      }
      if (n == kThings) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  std::string dir_, home_;
  int broker_port_ = 0;
  std::unique_ptr<vqi::transport::testing::Broker> broker_;
  std::vector<std::unique_ptr<fl::testing::SimDevice>> devices_;
};

TEST_F(FleetServerMqttTest, ServerPublishesWhatAnotherProcessCreatesAndSurvivesAKill) {
  vqi::testing::ServerProcess server;
  ASSERT_TRUE(StartServer(server)) << server.output();
  EXPECT_NE(server.output().find("listening on https://127.0.0.1:"), std::string::npos);
  StartDevices();

  // HTTPS: verified with the bundle's ca.pem (the certificate names 127.0.0.1).
  {
    httplib::SSLClient c("127.0.0.1", server.port());
    c.set_ca_cert_path((home_ + "/fleet/bundles/cam-00/ca.pem").c_str());
    c.enable_server_certificate_verification(true);
    auto res = c.Get("/v1/health");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 200);
  }

  // Another process creates a deployment; the running server publishes it.
  const auto t0 = Steady::now();
  auto created = Vqi("deployment create --target group:line --file " + Doc("1.0.0"));
  ASSERT_EQ(created.code, 0) << created.out;
  const auto t_created = Steady::now();
  ASSERT_TRUE(devices_[0]->WaitUntil([](const auto& got) { return !got.empty(); }, 10000));
  const auto first = devices_[0]->Received().front().at;
  ASSERT_TRUE(WaitAll("1.0.0", 20000));
  std::printf(
      "deployment create (process) -> first desired state received: %.0f ms after the "
      "command returned (%.0f ms including it)\n",
      std::chrono::duration<double, std::milli>(first - t_created).count(),
      std::chrono::duration<double, std::milli>(first - t0).count());
  EXPECT_LT(first - t_created, std::chrono::seconds(5));  // a bound; the time is printed above

  // Heartbeat → `vqi thing show`.
  ASSERT_TRUE(devices_[3]->SendHeartbeat(123).ok());
  bool seen = false;
  for (int i = 0; i < 200 && !seen; ++i) {
    auto show = Vqi("thing show cam-03 --json");
    ASSERT_EQ(show.code, 0) << show.out;
    auto j = vqi::ParseJson(show.out.substr(show.out.find('{')), "show");
    ASSERT_TRUE(j.ok()) << show.out;
    seen = (*j)["health"]["heartbeat"].is_object() &&
           (*j)["health"]["heartbeat"]["uptimeSeconds"] == 123;
    if (seen) {
      EXPECT_EQ((*j)["published"]["deployment"], "dep-1");
      EXPECT_EQ((*j)["deployments"][0]["status"], "SUCCEEDED");
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  EXPECT_TRUE(seen);
  // The same over HTTPS: GET /v1/things/{name} and /v1/things (read scope).
  {
    auto token = Vqi("server token create --name reader --scope read");
    ASSERT_EQ(token.code, 0) << token.out;
    // stdout (the token) and stderr (a note naming it) are interleaved: take the token line.
    std::string bearer;
    for (size_t at = 0; at < token.out.size();) {
      const size_t nl = token.out.find('\n', at);
      const std::string line = token.out.substr(at, nl - at);
      if (line.rfind("vqi_", 0) == 0) bearer = line;
      at = nl == std::string::npos ? token.out.size() : nl + 1;
    }
    httplib::SSLClient c("127.0.0.1", server.port());
    c.set_ca_cert_path((home_ + "/fleet/bundles/cam-00/ca.pem").c_str());
    c.enable_server_certificate_verification(true);
    c.set_bearer_token_auth(bearer.c_str());
    // The outbox record is marked acknowledged at the controller's next loop after the PUBACK:
    // poll (a fast `vqi` — the minimal build has no libtorch to load — asks before that).
    vqi::Json thing;
    for (int i = 0; i < 200; ++i) {
      auto one = c.Get("/v1/things/cam-03");
      ASSERT_TRUE(one) << httplib::to_string(one.error());
      ASSERT_EQ(one->status, 200) << one->body;
      auto j = vqi::ParseJson(one->body, "thing");
      ASSERT_TRUE(j.ok());
      thing = *j;
      if (thing["published"].value("acknowledged", false)) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_EQ(thing["health"]["heartbeat"]["uptimeSeconds"], 123);
    EXPECT_EQ(thing["published"]["acknowledged"], true) << thing.dump();
    auto all = c.Get("/v1/things");
    ASSERT_TRUE(all);
    ASSERT_EQ(all->status, 200);
    EXPECT_EQ((*vqi::ParseJson(all->body, "things"))["things"].size(), size_t{kThings});
    auto missing = c.Get("/v1/things/nope");
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->status, 404);
  }

  // The server dies; a deployment is created meanwhile; the next server start publishes it.
  ::kill(server.pid(), SIGKILL);
  server.Wait(10);
  auto second = Vqi("deployment create --target group:line --file " + Doc("2.0.0"));
  ASSERT_EQ(second.code, 0) << second.out;
  vqi::testing::ServerProcess again;
  ASSERT_TRUE(StartServer(again)) << again.output();
  EXPECT_TRUE(WaitAll("2.0.0", 20000));
  auto status = Vqi("deployment status dep-2 --json");
  ASSERT_EQ(status.code, 0);
  // Until every device's report is in (the simulated devices switch before they report).
  for (int i = 0; i < 200 && (status.out.find("IN_PROGRESS") != std::string::npos ||
                              status.out.find("QUEUED") != std::string::npos);
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    status = Vqi("deployment status dep-2 --json");
  }
  EXPECT_EQ(status.out.find("QUEUED"), std::string::npos) << status.out;
  // Graceful stop: the controller stops with the server, exit 0.
  EXPECT_EQ(again.Stop(), 0);
}

}  // namespace
