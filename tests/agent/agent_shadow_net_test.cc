// Issue 20, shadow models on the device (docs/design/shadow.md) with the real `vqi-agent run
// --bundle`: a desired state naming a `shadow` candidate makes the agent fetch and verify it
// like any component and install it into packages/artifacts/<name>/<version> without running
// it; a later desired state without the shadow removes its folder; promotion (the candidate as
// the live version) downloads nothing again — its blobs come from the agent's cache (the
// transfer counters show it).
#include "agent_net_env.h"

namespace vqi::agent_test {
namespace {

using fleet::DeviceStatus;

constexpr const char* kHard =
    R"("ComponentDependencies": {"com.ex.Model": {"VersionRequirement": ">=1.0.0 <3.0.0",
                                                 "DependencyType": "HARD"}},)";
constexpr const char* kProgramRun =
    R"({"run": "echo start; head -c 12 {com.ex.Model:artifacts:path}/model.bin; echo; exec sleep 1000"})";

std::string Model(const std::string& tag, size_t n, uint32_t seed) {
  std::string s = tag + "\n";
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s.push_back(static_cast<char>(x));
  }
  return s;
}

class AgentShadowTest : public AgentNetEnv {
 protected:
  int64_t Downloaded() { return Transfer().value("bytesDownloaded", int64_t{-1}); }
  int64_t FromCache() { return Transfer().value("bytesFromCache", int64_t{-1}); }
  std::string Folder(const std::string& version) {
    return h_.root() + "/packages/artifacts/com.ex.Model/" + version;
  }
};

TEST_F(AgentShadowTest, CandidateFetchedBesideTheSetKeptWhileNamedPromotedFromTheCache) {
  const std::string m1 = Model("weights-one", 300000, 1), m2 = Model("weights-two", 200000, 2);
  // The candidate's run step would leave a marker file if it ever ran.
  Component("com.ex.Model", "1.0.0", {{"model.bin", m1}}, "{}");
  Component("com.ex.Model", "1.1.0", {{"model.bin", m2}},
            R"({"run": "touch {work:path}/../shadow-ran"})");
  Component("com.ex.Program", "1.0.0", {}, kProgramRun, kHard);
  StartFleet();
  StartAgent();

  auto d1 = State("dep-1", 1, {{"com.ex.Program", "1.0.0"}, {"com.ex.Model", "1.0.0"}});
  d1.shadow = fleet::ShadowSpec{"com.ex.Model", "1.1.0"};
  Desired(d1);
  auto done = received_.WaitReport(kThing, "dep-1", DeviceStatus::kSucceeded, 30);
  ASSERT_TRUE(done) << Slurp(h_.dir() + "/agent.log");
  EXPECT_EQ(done->components.at("com.ex.Model").version, "1.0.0");
  // Installed, verified, not run; the live set runs the live model.
  EXPECT_EQ(Slurp(Folder("1.1.0") + "/model.bin"), m2);
  EXPECT_EQ(Slurp(Folder("1.0.0") + "/model.bin"), m1);
  EXPECT_EQ(Downloaded(), static_cast<int64_t>(m1.size() + m2.size()));
  EXPECT_TRUE(WaitFor(
      [&] { return h_.Log("com.ex.Program").find("weights-one") != std::string::npos; }, 5));
  EXPECT_FALSE(fs::exists(h_.root() + "/work/shadow-ran"));
  EXPECT_EQ(h_.Log("com.ex.Model"), "");

  // The same set without the shadow: its folder goes at the commit, its blob stays cached.
  Desired(State("dep-2", 2, {{"com.ex.Program", "1.0.0"}, {"com.ex.Model", "1.0.0"}}));
  ASSERT_TRUE(received_.WaitReport(kThing, "dep-2", DeviceStatus::kSucceeded, 30))
      << Slurp(h_.dir() + "/agent.log");
  EXPECT_FALSE(fs::exists(Folder("1.1.0")));

  // Promotion: the candidate as the live model — nothing downloaded again.
  const int64_t cached_before = FromCache();
  Desired(State("dep-3", 3, {{"com.ex.Program", "1.0.0"}, {"com.ex.Model", "1.1.0"}}));
  ASSERT_TRUE(received_.WaitReport(kThing, "dep-3", DeviceStatus::kSucceeded, 30))
      << Slurp(h_.dir() + "/agent.log");
  EXPECT_EQ(Downloaded(), static_cast<int64_t>(m1.size() + m2.size()));
  EXPECT_GE(FromCache() - cached_before, static_cast<int64_t>(m2.size()));
  std::printf("promotion: %lld bytes downloaded again, %lld from the cache\n",
              static_cast<long long>(Downloaded() - static_cast<int64_t>(m1.size() + m2.size())),
              static_cast<long long>(FromCache() - cached_before));
  EXPECT_TRUE(WaitFor(
      [&] { return h_.Log("com.ex.Program").find("weights-two") != std::string::npos; }, 5));

  // A shadow the server cannot supply does not fail the deployment.
  auto d4 = State("dep-4", 4, {{"com.ex.Program", "1.0.0"}, {"com.ex.Model", "1.1.0"}});
  d4.shadow = fleet::ShadowSpec{"com.ex.Model", "9.9.9"};
  Desired(d4);
  ASSERT_TRUE(received_.WaitReport(kThing, "dep-4", DeviceStatus::kSucceeded, 30))
      << Slurp(h_.dir() + "/agent.log");
  EXPECT_NE(
      Slurp(h_.dir() + "/agent.log").find("shadow candidate com.ex.Model@9.9.9 not installed"),
      std::string::npos);
  EXPECT_EQ(h_.Stop(), 0);
}

}  // namespace
}  // namespace vqi::agent_test
