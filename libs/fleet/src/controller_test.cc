// Acceptance 2 (issue 19): the fleet controller against a real Mosquitto and 24 simulated
// devices speaking the real protocol (fleet/testing/sim_device.h: each an MqttClient with its
// own device certificate from the vqi CA). A rollout "minute" is shortened (RolloutTiming) so
// the stages take seconds. Also: durability of publishing (broker down, server restart),
// hostile status reports, heartbeats, revocation.
#include "vqi/fleet/controller.h"

#include <gtest/gtest.h>
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
#include "vqi/fleet/deploy.h"
#include "vqi/fleet/health.h"
#include "vqi/fleet/identity.h"
#include "vqi/fleet/store.h"
#include "vqi/pki/pki.h"

namespace vqi::fleet {
namespace {

using testing::SimBehavior;
using testing::SimDevice;
using testing::SimReceived;
using Steady = std::chrono::steady_clock;

constexpr int kThings = 24;
constexpr const char* kModel = "com.acme.Model";

std::string Name(int i) {
  char b[16];
  std::snprintf(b, sizeof b, "cam-%02d", i);
  return b;
}

class ControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
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

TEST_F(ControllerTest, RolloutProceedsInStagesAfterTheCriteria) {
  constexpr int64_t kMinuteMs = 2000;
  StartController(kMinuteMs);
  // The first 4 devices take 5 s: at the second window nothing has succeeded yet, so the rate
  // stays 4; after that the next 4 have succeeded and it doubles. KPI within the threshold.
  StartDevices([](const DesiredState& d) {
    SimBehavior b;
    b.delay_ms = (d.thing < "cam-04") ? 5000 : 0;
    b.kpi_before = 0.10;
    b.kpi_after = 0.10;
    return b;
  });
  const auto t0 = Steady::now();
  const std::string id = Deploy("group:line", "1.0.0", kStaged,
                                R"({"kpi": {"metric": "defect_rate", "direction": "LOWER_IS_BETTER",
          "maxRegressionPercent": 20, "window": 10, "minReportingThings": 3}})");
  RolloutState st = WaitPhase(id, RolloutPhase::kCompleted);
  const double seconds = std::chrono::duration<double>(Steady::now() - t0).count();
  std::printf("staged rollout of %d devices: %.2f s\n", kThings, seconds);

  auto records = fleet_->DeviceStatuses(id);
  ASSERT_TRUE(records.ok());
  std::map<int64_t, int> stages;  // notified_ms -> things notified by that step
  for (const DeviceStatusRecord& r : *records) {
    EXPECT_EQ(r.status, DeviceStatus::kSucceeded) << r.thing << " " << r.reason;
    ASSERT_TRUE(r.kpi.has_value()) << r.thing << ": the KPI report after SUCCEEDED was refused";
    EXPECT_EQ(r.kpi->metric, "defect_rate");
    ++stages[r.notified_ms];
  }
  std::vector<int> sizes;
  std::vector<int64_t> times;
  for (const auto& [ms, n] : stages) {
    sizes.push_back(n);
    times.push_back(ms);
  }
  EXPECT_EQ(sizes, (std::vector<int>{4, 4, 8, 8}));
  for (size_t i = 1; i < times.size(); ++i)
    EXPECT_GE(times[i] - times[i - 1], kMinuteMs) << "stage " << i;
  // Stage order follows the rollout order (thing names).
  for (int i = 0; i + 1 < kThings; ++i)
    EXPECT_LE((*records)[i].notified_ms, (*records)[i + 1].notified_ms);
  for (auto& d : devices_) {
    EXPECT_TRUE(WaitRunning(*d, "1.0.0")) << d->thing();
    EXPECT_EQ(d->Received().size(), 1u) << d->thing();
    EXPECT_EQ(d->Ignored(), 0u) << d->thing();
  }
  EXPECT_EQ(st.reason, "");
  ControllerStats s = controller_->Stats();
  EXPECT_EQ(s.status_refused, 0u) << s.last_error;
  EXPECT_EQ(s.desired_enqueued, static_cast<uint64_t>(kThings));
}

TEST_F(ControllerTest, FailuresPastTheAbortThresholdStopAndRollBack) {
  StartController(1500);
  StartDevices([](const DesiredState& d) {
    SimBehavior b;
    if (d.components.at(kModel).version != "2.0.0") return b;
    if (d.thing >= "cam-04" && d.thing <= "cam-06")
      b.outcome = DeviceStatus::kFailedRollbackComplete;
    if (d.thing >= "cam-07") b.delay_ms = 3000;  // still installing when the abort comes
    return b;
  });
  Baseline();
  const std::string id =
      Deploy("group:line", "2.0.0",
             R"({"jobExecutionsRolloutConfig": {"maximumPerMinute": 1000, "exponentialRate":
          {"baseRatePerMinute": 4, "incrementFactor": 2,
           "rateIncreaseCriteria": {"numberOfSucceededThings": 4}}},
          "abortConfig": {"criteriaList": [{"failureType": "FAILED", "action": "CANCEL",
            "thresholdPercentage": 20, "minNumberOfExecutedThings": 7}]}})");
  RolloutState st = WaitPhase(id, RolloutPhase::kAborted);
  EXPECT_NE(st.reason.find("abort: FAILED 3 of 7 executed things"), std::string::npos) << st.reason;
  // Nothing is notified after the abort, even after further windows.
  std::this_thread::sleep_for(std::chrono::milliseconds(3200));
  std::set<std::string> updated = ReceivedFrom(id);
  std::set<std::string> first12;
  for (int i = 0; i < 12; ++i) first12.insert(Name(i));
  EXPECT_EQ(updated, first12);  // stage 1: 4, stage 2: 8
  for (auto& d : devices_) {
    const std::string t = d->thing();
    EXPECT_TRUE(WaitRunning(*d, "1.0.0")) << t << " is not back on 1.0.0";
    auto got = d->Received();
    const bool failed = t >= "cam-04" && t <= "cam-06";
    const bool rolled_back = updated.count(t) && !failed;
    if (rolled_back) {
      // The previous desired state came after the new one, with a higher sequence.
      ASSERT_EQ(got.size(), 3u) << t;
      EXPECT_EQ(got[1].state.deployment_id, id);
      EXPECT_EQ(got[2].state.components.at(kModel).version, "1.0.0") << t;
      EXPECT_GT(got[2].state.sequence, got[1].state.sequence);
    } else {
      EXPECT_EQ(got.size(), updated.count(t) ? 2u : 1u) << t;
    }
  }
  auto records = fleet_->DeviceStatuses(id);
  ASSERT_TRUE(records.ok());
  int canceled = 0, failed = 0, succeeded = 0;
  for (const DeviceStatusRecord& r : *records) {
    canceled += r.status == DeviceStatus::kCanceled;
    failed += r.status == DeviceStatus::kFailedRollbackComplete;
    succeeded += r.status == DeviceStatus::kSucceeded;
  }
  EXPECT_EQ(failed, 3);
  EXPECT_EQ(succeeded, 4);
  EXPECT_EQ(canceled, kThings - 7);
}

TEST_F(ControllerTest, KpiRegressionHaltsAndRollsBack) {
  StartController(2500);
  StartDevices([](const DesiredState& d) {
    SimBehavior b;
    if (d.components.at(kModel).version == "2.0.0") {
      b.kpi_before = 0.05;  // defect rate doubles with the new model
      b.kpi_after = 0.10;
    }
    return b;
  });
  Baseline();
  const std::string id = Deploy("group:line", "2.0.0", kStaged,
                                R"({"kpi": {"metric": "defect_rate", "direction": "LOWER_IS_BETTER",
          "maxRegressionPercent": 20, "window": 50, "minReportingThings": 3}})");
  RolloutState st = WaitPhase(id, RolloutPhase::kHalted);
  EXPECT_NE(st.reason.find("KPI halt: defect_rate regressed 100%"), std::string::npos) << st.reason;
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  std::set<std::string> updated = ReceivedFrom(id);
  EXPECT_EQ(updated, (std::set<std::string>{"cam-00", "cam-01", "cam-02", "cam-03"}));
  for (auto& d : devices_) {
    EXPECT_TRUE(WaitRunning(*d, "1.0.0")) << d->thing();
    auto got = d->Received();
    if (updated.count(d->thing())) {
      ASSERT_EQ(got.size(), 3u) << d->thing();
      EXPECT_EQ(got[2].state.components.at(kModel).version, "1.0.0");
      EXPECT_TRUE(got[1].state.kpi.has_value());  // the device was told what to measure
    } else {
      EXPECT_EQ(got.size(), 1u) << d->thing();
    }
  }
}

TEST_F(ControllerTest, PendingDesiredStatesSurviveBrokerOutageAndServerRestart) {
  StartDevices(nullptr, 1);  // cam-00 connected, then the broker goes away
  broker_->Stop();
  StartController(1000);
  const std::string id = Deploy("thing:cam-00", "1.0.0");
  // The controller stored the message but cannot publish it.
  const auto deadline = Steady::now() + std::chrono::seconds(10);
  std::optional<DesiredRecord> rec;
  while (Steady::now() < deadline) {
    auto r = fleet_->GetDesired("cam-00");
    if (r.ok() && r->has_value()) {
      rec = **r;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(rec.has_value());
  EXPECT_TRUE(rec->pending);
  EXPECT_EQ(rec->deployment_id, id);
  // The server stops (or dies) before any PUBACK: the record stays pending.
  controller_->Stop(200);
  controller_.reset();
  EXPECT_TRUE((*fleet_->GetDesired("cam-00"))->pending);
  // Broker back, a new server process: the pending state is published, the device gets it.
  ASSERT_TRUE(broker_->Restart().ok());
  StartController(1000);
  ASSERT_TRUE(WaitRunning(*devices_[0], "1.0.0", 15000)) << broker_->Log();
  EXPECT_EQ(devices_[0]->Received().front().state.sequence, rec->sequence);
  WaitPhase(id, RolloutPhase::kCompleted);
  const auto deadline2 = Steady::now() + std::chrono::seconds(5);
  while (Steady::now() < deadline2 && (*fleet_->GetDesired("cam-00"))->pending)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE((*fleet_->GetDesired("cam-00"))->pending);
}

// What `vqi deployment create` → device costs with the default poll (200 ms): the store write
// committed → the desired state on the device.
TEST_F(ControllerTest, CreateToPublishLatencyIsBoundedByThePoll) {
  StartController(60000, 200);
  StartDevices(nullptr, 1);
  std::vector<double> ms;
  for (int i = 0; i < 10; ++i) {
    const size_t before = devices_[0]->Received().size();
    const auto t0 = Steady::now();
    Deploy("thing:cam-00", i % 2 ? "2.0.0" : "1.0.0");
    ASSERT_TRUE(devices_[0]->WaitUntil(
        [&](const std::vector<SimReceived>& got) { return got.size() > before; }, 5000));
    ms.push_back(
        std::chrono::duration<double, std::milli>(devices_[0]->Received().back().at - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("create -> desired state on the device (poll 200 ms): p50 %.0f ms, max %.0f ms\n",
              ms[ms.size() / 2], ms.back());
  EXPECT_LT(ms.back(), 1000);
}

TEST_F(ControllerTest, HostileReportsAreCountedHeartbeatsStoredRevokedThingsCleared) {
  StartController(1000);
  StartDevices(nullptr, 2);
  const std::string id = Deploy("group:line", "1.0.0");
  ASSERT_TRUE(WaitRunning(*devices_[0], "1.0.0"));
  ASSERT_TRUE(WaitRunning(*devices_[1], "1.0.0"));
  SimDevice& d = *devices_[0];
  const uint64_t refused_before = controller_->Stats().status_refused;
  StatusReport other;
  other.thing = "cam-05";  // not the sender
  other.deployment_id = id;
  other.sequence = 99;
  other.status = DeviceStatus::kFailedNoRollback;
  const std::vector<std::string> garbage = {
      "not json", "{}", std::string(70000, 'x'), StatusReportToJson(other),
      R"({"schema":"vqi-status/1","thing":"cam-00","deploymentId":"dep-999","sequence":100,)"
      R"("status":"SUCCEEDED","reason":"","components":{},"at":""})"};
  for (const std::string& g : garbage) ASSERT_TRUE(d.PublishRawStatus(g).ok());
  ASSERT_TRUE(d.SendHeartbeat(77).ok());
  const auto deadline = Steady::now() + std::chrono::seconds(10);
  while (Steady::now() < deadline &&
         (controller_->Stats().status_refused < refused_before + garbage.size() ||
          controller_->Stats().health_stored < 1))
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ControllerStats s = controller_->Stats();
  EXPECT_EQ(s.status_refused, refused_before + garbage.size()) << s.last_error;
  EXPECT_EQ(s.health_stored, 1u);
  EXPECT_EQ((*fleet_->GetDeviceStatus(id, "cam-05")).status, DeviceStatus::kQueued);
  auto health = fleet_->GetHealth("cam-00");
  ASSERT_TRUE(health.ok() && health->has_value());
  auto hb = ParseHealthReport((*health)->heartbeat, "cam-00");
  ASSERT_TRUE(hb.ok()) << (*health)->heartbeat;
  EXPECT_EQ(hb->uptime_seconds, 77);
  EXPECT_EQ(hb->components.at(kModel).version, "1.0.0");

  // Revoked: the retained desired state is cleared (the device still connected sees it).
  ASSERT_TRUE(fleet_->RevokeThing("cam-01").ok());
  EXPECT_TRUE(devices_[1]->WaitUntil(
      [](const std::vector<SimReceived>& got) { return !got.empty() && got.back().cleared; },
      10000));
  EXPECT_EQ((*fleet_->GetDesired("cam-01"))->payload, "");
}

}  // namespace
}  // namespace vqi::fleet
