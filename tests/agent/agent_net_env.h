// Test environment for `vqi-agent run --bundle` with real processes: a vqi home with a
// publisher key and signed components (`vqi key create`, `vqi component create`), a device
// bundle (`vqi thing create`), the real `vqi server` serving the components, a real Mosquitto
// with vqi's configuration (vqi_transport_testing) whose certificates come from the home's CA
// (libs/pki), and an MQTT client acting as the server's identity `vqi-server`, which publishes
// desired states by hand and collects the agent's status reports and heartbeats.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent_harness.h"
#include "server_process.h"
#include "transport/testing/broker.h"
#include "vqi/base/file.h"
#include "vqi/base/hash.h"
#include "vqi/base/testing/free_port.h"
#include "vqi/fleet/desired_state.h"
#include "vqi/fleet/health.h"
#include "vqi/fleet/status_report.h"
#include "vqi/pki/pki.h"
#include "vqi/transport/mqtt_client.h"
#include "vqi/transport/topics.h"

namespace vqi::agent_test {

inline int FreePort() { return vqi::testing::FreeLoopbackPort(); }

// What the agent published, as the server sees it.
class Received {
 public:
  void Add(const transport::MqttMessage& m) {
    std::lock_guard lock(mu_);
    messages_.push_back(m);
    cv_.notify_all();
  }
  // Every message on `topic` so far (issue 20: component results through the spool).
  std::vector<transport::MqttMessage> On(const std::string& topic) {
    std::vector<transport::MqttMessage> out;
    std::lock_guard lock(mu_);
    for (const auto& m : messages_)
      if (m.topic == topic) out.push_back(m);
    return out;
  }
  // Status reports of `thing` so far, parsed (unparseable ones fail the test).
  std::vector<fleet::StatusReport> Reports(const std::string& thing) {
    std::vector<fleet::StatusReport> out;
    std::lock_guard lock(mu_);
    for (const auto& m : messages_) {
      if (m.topic != transport::topics::StatusTopic(thing)) continue;
      auto r = fleet::ParseStatusReport(m.payload, thing);
      EXPECT_TRUE(r.ok()) << r.status().ToString() << "\n" << m.payload;
      if (r.ok()) out.push_back(*r);
    }
    return out;
  }
  std::vector<Json> Heartbeats(const std::string& thing) {
    std::vector<Json> out;
    std::lock_guard lock(mu_);
    for (const auto& m : messages_) {
      if (m.topic != transport::topics::HealthTopic(thing)) continue;
      auto h = fleet::ParseHealthReport(m.payload, thing);  // what the server accepts
      EXPECT_TRUE(h.ok()) << h.status().ToString() << "\n" << m.payload;
      out.push_back(Json::parse(m.payload));
    }
    return out;
  }
  // Waits for a report of `deployment` with `status` (and a kpi when `with_kpi`).
  std::optional<fleet::StatusReport> WaitReport(const std::string& thing,
                                                const std::string& deployment,
                                                fleet::DeviceStatus status, double seconds,
                                                bool with_kpi = false) {
    std::optional<fleet::StatusReport> found;
    WaitFor(
        [&] {
          for (const auto& r : Reports(thing))
            if (r.deployment_id == deployment && r.status == status && (!with_kpi || r.kpi))
              found = r;
          return found.has_value();
        },
        seconds);
    return found;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<transport::MqttMessage> messages_;
};

class AgentNetEnv : public ::testing::Test {
 protected:
  static constexpr const char* kThing = "cam-1";

  void SetUp() override {
    if (!transport::testing::MosquittoAvailable())
      GTEST_SKIP() << "/usr/sbin/mosquitto is missing (Debian package mosquitto)";
    home_ = h_.dir() + "/home";
    bundle_ = h_.dir() + "/bundle";
    ASSERT_EQ(Vqi("key create acme").code, 0);
  }
  void TearDown() override {
    h_.Stop();
    if (server_mqtt_) (void)server_mqtt_->Disconnect(500);
    if (broker_) broker_->Stop();
    server_.Stop();
  }

  Cmd Vqi(const std::string& args) {
    return Sh(std::string(std::getenv("VQI_BIN")) + " --home " + home_ + " " + args);
  }

  // Signs and stores name@version with `artifacts` (file name → content) and `recipe_rest`
  // (the recipe's keys after ComponentVersion, e.g. dependencies and Manifests).
  void Component(const std::string& name, const std::string& version,
                 const std::vector<std::pair<std::string, std::string>>& artifacts,
                 const std::string& lifecycle, const std::string& extra = "") {
    const std::string in = h_.dir() + "/in/" + name + "-" + version;
    std::string uris, args;
    for (const auto& [file, content] : artifacts) {
      Write(in + "/" + file, content);
      uris += std::string(uris.empty() ? "" : ", ") + R"({"Uri": "s3://b/)" + file + R"("})";
      args += " --artifact " + in + "/" + file;
    }
    Write(in + "/recipe.json", R"({"RecipeFormatVersion": "2020-01-25", "ComponentName": ")" +
                                   name + R"(", "ComponentVersion": ")" + version +
                                   R"(", "ComponentPublisher": "Acme", )" + extra +
                                   R"( "Manifests": [{"Platform": {"os": "linux"},
       "Lifecycle": )" + lifecycle +
                                   R"(, "Artifacts": [)" + uris + "]}]}");
    const Cmd c = Vqi("component create --recipe " + in + "/recipe.json" + args + " --key acme");
    ASSERT_EQ(c.code, 0) << c.out;
  }

  // The server, the device bundle, the broker (certificates from the home's CA) and the
  // vqi-server MQTT client. Components must exist before (the bundle trusts the home's keys).
  void StartFleet() {
    ASSERT_TRUE(server_.Start(home_)) << server_.output();
    const int mqtt_port = FreePort();
    const Cmd t = Vqi(
        std::string("thing create ") + kThing + " --broker 127.0.0.1:" + std::to_string(mqtt_port) +
        " --server http://127.0.0.1:" + std::to_string(server_.port()) + " --bundle " + bundle_);
    ASSERT_EQ(t.code, 0) << t.out;
    auto ca = pki::OpenCa(pki::CaDir(home_));
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    auto srv = pki::IssueCertificate(
        *ca, {"vqi-broker", pki::CertKind::kServer, {"localhost"}, {"127.0.0.1"}, 30});
    ASSERT_TRUE(srv.ok()) << srv.status().ToString();
    ASSERT_TRUE(pki::WriteIssued(h_.dir() + "/broker-tls", *srv).ok());
    auto id = pki::IssueCertificate(*ca, {"vqi-server", pki::CertKind::kClient, {}, {}, 30});
    ASSERT_TRUE(id.ok()) << id.status().ToString();
    ASSERT_TRUE(pki::WriteIssued(h_.dir() + "/vqi-server", *id).ok());
    transport::testing::BrokerOptions bo;
    bo.dir = h_.dir() + "/mosquitto";
    bo.ca_file = ca->CertPath();
    bo.server_cert_file = h_.dir() + "/broker-tls/cert.pem";
    bo.server_key_file = h_.dir() + "/broker-tls/key.pem";
    bo.crl_file = ca->CrlPath();
    bo.port = mqtt_port;
    auto broker = transport::testing::StartBroker(bo);
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(*broker);

    transport::MqttOptions mo;
    mo.port = mqtt_port;
    mo.client_id = "vqi-server";
    mo.ca_file = ca->CertPath();
    mo.cert_file = h_.dir() + "/vqi-server/cert.pem";
    mo.key_file = h_.dir() + "/vqi-server/key.pem";
    // Persistent, as the real server's: after a broker restart the agent may reconnect and
    // re-send its latest report before this client has subscribed again; the broker keeps it
    // for this session (a clean session lost it: BrokerRestart... failed in CI).
    mo.clean_session = false;
    mo.max_payload_bytes = 4 << 20;
    auto c = transport::MqttClient::Create(mo);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    server_mqtt_ = std::move(*c);
    server_mqtt_->OnMessage([this](const transport::MqttMessage& m) {
      received_.Add(m);
      return Status::Ok();
    });
    ASSERT_TRUE(server_mqtt_->Connect().ok());
    ASSERT_TRUE(server_mqtt_->WaitConnected(10000).ok());
    ASSERT_TRUE(server_mqtt_->Subscribe(transport::topics::AllStatus()).ok());
    ASSERT_TRUE(server_mqtt_->Subscribe(transport::topics::AllHealth()).ok());
  }

  void StartAgent(const std::string& extra = "") {
    h_.Start("--bundle " + bundle_ +
             " --soak 0.5 --heartbeat 1 --restart-base 0.1 --stop-grace 2 " + extra);
    ASSERT_TRUE(h_.Running()) << Slurp(h_.dir() + "/agent.log");
  }

  // A desired state as the controller publishes it (retained, QoS 1) unless `retain` is false.
  void Desired(const fleet::DesiredState& d, bool retain = true) {
    Raw(fleet::DesiredStateToJson(d), retain);
  }
  void Raw(const std::string& payload, bool retain = false) {
    ASSERT_TRUE(
        server_mqtt_->Publish(transport::topics::DesiredTopic(kThing), payload, 1, retain).ok());
  }
  static fleet::DesiredState State(const std::string& id, int64_t seq,
                                   std::map<std::string, std::string> versions) {
    fleet::DesiredState d;
    d.thing = kThing;
    d.deployment_id = id;
    d.sequence = seq;
    for (const auto& [n, v] : versions) d.components[n].version = v;
    return d;
  }
  // Blob of `content` in the home's artifact store (to tamper with).
  std::string BlobPath(const std::string& content) {
    const std::string digest = Sha256Hex(content);
    for (const auto& e : fs::recursive_directory_iterator(home_ + "/artifacts"))
      if (e.path().filename().string().rfind(digest, 0) == 0) return e.path().string();
    return "";
  }
  Json Transfer() { return h_.Status()["transfer"]; }

  AgentHarness h_;
  std::string home_, bundle_;
  vqi::testing::ServerProcess server_;
  std::unique_ptr<transport::testing::Broker> broker_;
  Received received_;  // before the client whose handler fills it
  std::unique_ptr<transport::MqttClient> server_mqtt_;
};

}  // namespace vqi::agent_test
