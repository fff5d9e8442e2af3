// The agent bundle `vqi thing create` writes is what the agent reads: libs/agent's
// FetchSetupFromBundle accepts it (thing, server, token, TLS files, the publisher's key).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "run_vqi.h"
#include "vqi/agent/fetch_bundle.h"

namespace {

namespace fs = std::filesystem;

TEST(FleetBundleTest, AgentReadsWhatThingCreateWrites) {
  std::string t = (fs::temp_directory_path() / "vqi-fleet-bundle-XXXXXX").string();
  ASSERT_NE(::mkdtemp(t.data()), nullptr);
  const std::string home = t + "/home";
  auto vqi = [&](const std::string& args) {
    return vqi::testing::RunVqi("--home '" + home + "' " + args);
  };
  ASSERT_EQ(vqi("key create acme").code, 0);
  auto created = vqi("thing create cam-1 --server https://127.0.0.1:9443 --bundle " + t + "/b");
  ASSERT_EQ(created.code, 0) << created.out;
  auto setup = vqi::agent::FetchSetupFromBundle(t + "/b", t + "/root");
  ASSERT_TRUE(setup.ok()) << setup.status().ToString();
  EXPECT_EQ(setup->thing, "cam-1");
  EXPECT_EQ(setup->options.http.ca_file, t + "/b/ca.pem");
  EXPECT_EQ(setup->options.http.client_key_file, t + "/b/key.pem");
  EXPECT_EQ(setup->trusted.size(), 1u);
  std::error_code ec;
  fs::remove_all(t, ec);
}

}  // namespace
