// The fixture of the controller tests (acceptance 2): a real Mosquitto, the vqi CA, 24 things
// in group "line" with device certificates, two versions of a component, the controller and
// simulated devices (fleet/testing/sim_device.h).
#pragma once

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "fleet/testing/sim_device.h"
#include "transport/testing/broker.h"
#include "vqi/component/recipe.h"
#include "vqi/component/store.h"
#include "vqi/fleet/controller.h"
#include "vqi/fleet/deploy.h"
#include "vqi/fleet/health.h"
#include "vqi/fleet/identity.h"
#include "vqi/fleet/store.h"
#include "vqi/pki/pki.h"

namespace vqi::fleet::controller_testing {

using testing::SimBehavior;
using testing::SimDevice;
using testing::SimReceived;
using Steady = std::chrono::steady_clock;

constexpr int kThings = 24;
constexpr const char* kModel = "com.acme.Model";

inline std::string Name(int i) {
  char b[16];
  std::snprintf(b, sizeof b, "cam-%02d", i);
  return b;
}

class ControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // spdlog's registry is created on first use, inside libspdlog (not instrumented): make that
    // happen on this thread, before any MQTT thread logs, or ThreadSanitizer reports its fields.
    spdlog::default_logger();
    if (!transport::testing::MosquittoAvailable())
      GTEST_SKIP() << "mosquitto is missing (Debian package mosquitto)";
    std::string t = (std::filesystem::temp_directory_path() / "vqi-ctl-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    home_ = t;
    auto ca = OpenOrCreateCa(home_);
    ASSERT_TRUE(ca.ok()) << ca.status().ToString();
    ca_ = *ca;
    auto srv = pki::IssueCertificate(
        ca_, {"vqi-broker", pki::CertKind::kServer, {"localhost"}, {"127.0.0.1"}, 30});
    ASSERT_TRUE(srv.ok()) << srv.status().ToString();
    ASSERT_TRUE(pki::WriteIssued(home_ + "/broker-tls", *srv).ok());
    transport::testing::BrokerOptions bo;
    bo.dir = home_ + "/mosquitto";
    bo.ca_file = ca_.CertPath();
    bo.server_cert_file = home_ + "/broker-tls/cert.pem";
    bo.server_key_file = home_ + "/broker-tls/key.pem";
    bo.crl_file = ca_.CrlPath();
    auto broker = transport::testing::StartBroker(bo);
    ASSERT_TRUE(broker.ok()) << broker.status().ToString();
    broker_ = std::move(*broker);

    auto f = OpenSqliteFleetStore(FleetDbPath(home_));
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    fleet_ = std::move(*f);
    auto c = component::OpenSqliteStore(component::ComponentsDbPath(home_));
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    components_ = std::move(*c);
    PutComponent("1.0.0");
    PutComponent("2.0.0");
    for (int i = 0; i < kThings; ++i) {
      ASSERT_TRUE(fleet_->CreateThing(Name(i)).ok());
      ASSERT_TRUE(fleet_->AddToGroup(Name(i), "line").ok());
      auto issued = pki::IssueCertificate(ca_, {Name(i), pki::CertKind::kClient, {}, {}, 30});
      ASSERT_TRUE(issued.ok()) << issued.status().ToString();
      ASSERT_TRUE(pki::WriteIssued(home_ + "/devices/" + Name(i), *issued).ok());
    }
  }

  void TearDown() override {
    devices_.clear();
    if (controller_) controller_->Stop();
    controller_.reset();
    broker_.reset();
    std::error_code ec;
    if (!home_.empty()) std::filesystem::remove_all(home_, ec);
  }

  void PutComponent(const std::string& version) {
    component::Recipe r;
    r.name = kModel;
    r.version = version;
    r.publisher = "Acme";
    component::Manifest m;
    m.platform = {{"os", "linux"}};
    r.manifests.push_back(m);
    component::StoredComponent c;
    c.name = kModel;
    c.version = version;
    c.publisher = "Acme";
    c.key_id = "k";
    c.recipe_json = component::RecipeToJson(r).dump();
    c.recipe_text = c.recipe_json;
    c.manifest = "manifest " + version;
    c.signature = std::string(64, 's');
    ASSERT_TRUE(components_->Put(c).ok());
  }

  void StartController(int64_t minute_ms, int poll_ms = 50) {
    ControllerOptions o;
    o.home = home_;
    o.mqtt_host = broker_->host();
    o.mqtt_port = broker_->port();
    o.poll_interval_ms = poll_ms;
    o.timing.minute_ms = minute_ms;
    o.timing.kpi_wait_ms = 5000;
    o.reconnect_max_ms = 500;
    auto c = FleetController::Create(o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    controller_ = std::move(*c);
    ASSERT_TRUE(controller_->Start().ok());
  }

  void StartDevices(const testing::SimScript& script, int n = kThings) {
    for (int i = 0; i < n; ++i) {
      testing::SimDeviceOptions o;
      o.thing = Name(i);
      o.port = broker_->port();
      o.ca_file = ca_.CertPath();
      o.cert_file = home_ + "/devices/" + Name(i) + "/cert.pem";
      o.key_file = home_ + "/devices/" + Name(i) + "/key.pem";
      o.script = script;
      auto d = SimDevice::Start(o);
      ASSERT_TRUE(d.ok()) << Name(i) << ": " << d.status().ToString() << "\n" << broker_->Log();
      devices_.push_back(std::move(*d));
    }
  }

  std::string Deploy(const std::string& target, const std::string& version,
                     const std::string& iot_job = "", const std::string& vqi_rollout = "") {
    std::string doc = R"({"components": {")" + std::string(kModel) +
                      R"(": {"componentVersion": ")" + version + R"("}})";
    if (!iot_job.empty()) doc += R"(, "iotJobConfiguration": )" + iot_job;
    if (!vqi_rollout.empty()) doc += R"(, "vqiRolloutConfig": )" + vqi_rollout;
    doc += "}";
    auto out = CreateDeployment(*fleet_, *components_, *ParseTarget(target), doc);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? out->deployment.id : "";
  }

  // Waits until the deployment's rollout phase is `phase`; returns the final state.
  RolloutState WaitPhase(const std::string& id, RolloutPhase phase, int timeout_ms = 30000) {
    const auto deadline = Steady::now() + std::chrono::milliseconds(timeout_ms);
    RolloutState st;
    while (Steady::now() < deadline) {
      auto d = fleet_->GetDeployment(id);
      if (d.ok() && !d->rollout_state.empty()) {
        auto s = RolloutStateFromJson(d->rollout_state);
        if (s.ok()) st = *s;
        if (s.ok() && s->phase == phase) return st;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ADD_FAILURE() << id << ": phase " << RolloutPhaseName(st.phase) << " (" << st.reason
                  << "), waited for " << RolloutPhaseName(phase)
                  << "; controller: " << controller_->Stats().last_error;
    return st;
  }

  // Things that ever received a desired state of deployment `id`.
  std::set<std::string> ReceivedFrom(const std::string& id) {
    std::set<std::string> out;
    for (const auto& d : devices_)
      for (const SimReceived& r : d->Received())
        if (!r.cleared && r.state.deployment_id == id) out.insert(d->thing());
    return out;
  }

  bool WaitRunning(SimDevice& d, const std::string& version, int timeout_ms = 10000) {
    const auto deadline = Steady::now() + std::chrono::milliseconds(timeout_ms);
    while (Steady::now() < deadline) {
      auto r = d.Running();
      if (r.count(kModel) && r[kModel] == version) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  // Baseline: version 1.0.0 everywhere, all at once.
  void Baseline() {
    const std::string id = Deploy("group:line", "1.0.0");
    WaitPhase(id, RolloutPhase::kCompleted);
    for (auto& d : devices_) ASSERT_TRUE(WaitRunning(*d, "1.0.0")) << d->thing();
  }

  std::string home_;
  pki::Ca ca_;
  std::unique_ptr<transport::testing::Broker> broker_;
  std::unique_ptr<FleetStore> fleet_;
  std::unique_ptr<component::Store> components_;
  std::unique_ptr<FleetController> controller_;
  std::vector<std::unique_ptr<SimDevice>> devices_;
};

constexpr const char* kStaged =
    R"({"jobExecutionsRolloutConfig": {"maximumPerMinute": 1000, "exponentialRate":
        {"baseRatePerMinute": 4, "incrementFactor": 2,
         "rateIncreaseCriteria": {"numberOfSucceededThings": 4}}}})";

}  // namespace vqi::fleet::controller_testing
