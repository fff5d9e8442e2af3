// End-to-end through the real `vqi` (issue 19, acceptance 5 at creation): key create →
// component create (a model and a program with a HARD dependency on it) → thing create with
// groups → deployment create resolved against the component store → status, supersede, the
// union conflict naming both deployments, cancel; malformed and unresolvable documents refused
// with the path or the resolver's message and nothing stored.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "run_vqi.h"
#include "vqi/base/file.h"
#include "vqi/base/json.h"

namespace {

namespace fs = std::filesystem;
using vqi::testing::CmdResult;

class FleetCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (fs::temp_directory_path() / "vqi-fleet-cli-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    dir_ = t;
    home_ = dir_ + "/home";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  CmdResult Vqi(const std::string& args) {
    return vqi::testing::RunVqi("--home '" + home_ + "' " + args);
  }
  void Write(const std::string& rel, const std::string& data) {
    ASSERT_TRUE(vqi::WriteFileAtomic(dir_ + "/" + rel, data).ok());
  }
  // Creates and signs `name`@`version`, depending on `dep` (name:range) if given.
  void Component(const std::string& name, const std::string& version, const std::string& dep = "") {
    std::string deps;
    if (!dep.empty()) {
      const size_t colon = dep.find(':');
      deps = R"("ComponentDependencies": {")" + dep.substr(0, colon) +
             R"(": {"VersionRequirement": ")" + dep.substr(colon + 1) + R"("}},)";
    }
    const std::string rel = "in/" + name + "-" + version;
    Write(rel + "/recipe.json", R"({"RecipeFormatVersion": "2020-01-25", "ComponentName": ")" +
                                    name + R"(", "ComponentVersion": ")" + version +
                                    R"(", "ComponentPublisher": "Acme", )" + deps +
                                    R"( "Manifests": [{"Platform": {"os": "linux"},
                   "Lifecycle": {"run": "{artifacts:path}/run.sh"},
                   "Artifacts": [{"Uri": "s3://b/run.sh"}]}]})");
    Write(rel + "/run.sh", "#!/bin/sh\necho " + name + " " + version + "\n");
    CmdResult c = Vqi("component create --recipe " + dir_ + "/" + rel + "/recipe.json --artifact " +
                      dir_ + "/" + rel + "/run.sh --key acme");
    ASSERT_EQ(c.code, 0) << c.out;
  }
  vqi::Json JsonOf(const CmdResult& r) {
    auto j = vqi::ParseJson(r.out, "vqi output");
    EXPECT_TRUE(j.ok()) << r.out;
    return j.ok() ? *j : vqi::Json();
  }
  std::string dir_, home_;
};

TEST_F(FleetCliTest, ThingsDeploymentsStatus) {
  ASSERT_EQ(Vqi("key create acme").code, 0);
  Component("com.acme.model", "1.0.0");
  Component("com.acme.model", "1.1.0");
  Component("com.acme.model", "2.0.0");
  Component("com.acme.inspect", "1.0.0", "com.acme.model:^1.0.0");

  for (int i = 1; i <= 3; ++i) {
    CmdResult t = Vqi("thing create cam-" + std::to_string(i) + " --group line-1");
    ASSERT_EQ(t.code, 0) << t.out;
  }
  ASSERT_EQ(Vqi("thing create cam-9").code, 0);
  CmdResult dup = Vqi("thing create cam-1");
  EXPECT_EQ(dup.code, 1) << dup.out;
  EXPECT_NE(dup.out.find("AlreadyExists: thing 'cam-1' already exists"), std::string::npos);
  CmdResult bad_name = Vqi("thing create 'cam/1'");
  EXPECT_EQ(bad_name.code, 2) << bad_name.out;

  // The agent bundle: CA, certificate (CN = thing), key 0600, agent.json with a device token,
  // the publisher's public key.
  const std::string bundle = home_ + "/fleet/bundles/cam-1";
  auto agent = vqi::ReadJsonFile(bundle + "/agent.json");
  ASSERT_TRUE(agent.ok()) << agent.status().ToString();
  EXPECT_EQ((*agent)["thing"], "cam-1");
  EXPECT_EQ((*agent)["token"].get<std::string>().rfind("vqi_", 0), 0u);
  EXPECT_EQ(fs::status(bundle + "/key.pem").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_TRUE(fs::exists(bundle + "/ca.pem"));
  EXPECT_TRUE(fs::exists(bundle + "/trusted-keys/acme.pub"));
  auto cert = vqi::ReadFile(bundle + "/cert.pem");
  ASSERT_TRUE(cert.ok());
  EXPECT_EQ(cert->rfind("-----BEGIN CERTIFICATE-----", 0), 0u);
  CmdResult reserved = Vqi("thing create vqi-server");
  EXPECT_EQ(reserved.code, 1) << reserved.out;
  EXPECT_NE(reserved.out.find("PermissionDenied"), std::string::npos) << reserved.out;

  CmdResult list = Vqi("thing list --json");
  ASSERT_EQ(list.code, 0) << list.out;
  EXPECT_EQ(JsonOf(list).size(), 4u);

  // A real Greengrass body: the program only; the model comes in through its dependency.
  Write("d1.json", R"({
    "targetArn": "arn:aws:iot:eu-west-1:123456789012:thinggroup/line-1",
    "deploymentName": "inspect v1",
    "components": {"com.acme.inspect": {"componentVersion": "1.0.0",
      "configurationUpdate": {"merge": "{\"threshold\":0.5}", "reset": ["/old"]}}},
    "deploymentPolicies": {"failureHandlingPolicy": "ROLLBACK"},
    "iotJobConfiguration": {"jobExecutionsRolloutConfig": {"maximumPerMinute": 10}}})");
  CmdResult d1 = Vqi("deployment create --target group:line-1 --file " + dir_ + "/d1.json --json");
  ASSERT_EQ(d1.code, 0) << d1.out;
  vqi::Json j1 = JsonOf(d1);
  EXPECT_EQ(j1["id"], "dep-1");
  EXPECT_EQ(j1["resolved"]["com.acme.model"], "1.1.0");
  EXPECT_EQ(j1["things"].size(), 3u);

  CmdResult st = Vqi("deployment status dep-1 --json");
  ASSERT_EQ(st.code, 0) << st.out;
  vqi::Json sj = JsonOf(st);
  ASSERT_EQ(sj["devices"].size(), 3u);
  for (const auto& d : sj["devices"]) EXPECT_EQ(d["status"], "QUEUED");
  CmdResult show = Vqi("thing show cam-2 --json");
  ASSERT_EQ(show.code, 0) << show.out;
  EXPECT_EQ(JsonOf(show)["desired"]["components"]["com.acme.model"], "1.1.0");

  // Refused at creation, nothing stored.
  Write("unknown.json", R"({"components": {"com.acme.nope": {"componentVersion": "1.0.0"}}})");
  CmdResult unknown =
      Vqi("deployment create --target group:line-1 --file " + dir_ + "/unknown.json");
  EXPECT_EQ(unknown.code, 1) << unknown.out;
  EXPECT_NE(unknown.out.find("NotFound: com.acme.nope: no such component"), std::string::npos)
      << unknown.out;
  Write("version.json", R"({"components": {"com.acme.model": {"componentVersion": "9.9.9"}}})");
  CmdResult version =
      Vqi("deployment create --target thing:cam-9 --file " + dir_ + "/version.json");
  EXPECT_EQ(version.code, 1) << version.out;
  EXPECT_NE(version.out.find("com.acme.model"), std::string::npos) << version.out;
  EXPECT_NE(version.out.find("2.0.0"), std::string::npos) << "names what exists: " << version.out;
  Write("merge.json", R"({"components": {"com.acme.model": {"componentVersion": "1.0.0",
      "configurationUpdate": {"merge": {"threshold": 1}}}}})");
  CmdResult merge = Vqi("deployment create --target thing:cam-9 --file " + dir_ + "/merge.json");
  EXPECT_EQ(merge.code, 2) << merge.out;
  EXPECT_NE(merge.out.find("components.com.acme.model.configurationUpdate.merge: not a JSON "
                           "string"),
            std::string::npos)
      << merge.out;
  EXPECT_EQ(JsonOf(Vqi("deployment list --json")).size(), 1u);

  // A thing-level deployment of model 2.0.0 conflicts with line-1's dependency on ^1.0.0.
  Write("model2.json", R"({"components": {"com.acme.model": {"componentVersion": "2.0.0"}}})");
  CmdResult conflict =
      Vqi("deployment create --target thing:cam-1 --file " + dir_ + "/model2.json");
  EXPECT_EQ(conflict.code, 1) << conflict.out;
  EXPECT_NE(conflict.out.find("deployment dep-1 (group:line-1)"), std::string::npos)
      << conflict.out;
  EXPECT_NE(conflict.out.find("the new deployment (thing:cam-1)"), std::string::npos)
      << conflict.out;
  // The same on a thing outside line-1 is fine; adding it to line-1 then is refused.
  ASSERT_EQ(Vqi("deployment create --target thing:cam-9 --file " + dir_ + "/model2.json").code, 0);
  CmdResult add = Vqi("thing group add cam-9 line-1");
  EXPECT_EQ(add.code, 1) << add.out;
  EXPECT_NE(add.out.find("deployment dep-2 (thing:cam-9)"), std::string::npos) << add.out;

  // A new thing joining two groups whose deployments conflict is not created at all.
  ASSERT_EQ(Vqi("thing create cam-8 --group solo").code, 0);
  ASSERT_EQ(Vqi("deployment create --target group:solo --file " + dir_ + "/model2.json").code, 0);
  CmdResult both = Vqi("thing create cam-7 --group line-1 --group solo");
  EXPECT_EQ(both.code, 1) << both.out;
  EXPECT_NE(both.out.find("deployment dep-3 (group:solo)"), std::string::npos) << both.out;
  EXPECT_EQ(Vqi("thing show cam-7").code, 1);

  // Supersede: a newer deployment to line-1.
  Write("d3.json", R"({"components": {"com.acme.model": {"componentVersion": "1.0.0"}}})");
  CmdResult d3 = Vqi("deployment create --target group:line-1 --file " + dir_ + "/d3.json");
  ASSERT_EQ(d3.code, 0) << d3.out;
  EXPECT_NE(d3.out.find("created deployment dep-4 to group:line-1 (3 things, 1 components)"),
            std::string::npos)
      << d3.out;
  EXPECT_NE(d3.out.find("supersedes dep-1"), std::string::npos) << d3.out;
  CmdResult old = Vqi("deployment status dep-1");
  EXPECT_NE(old.out.find("SUPERSEDED by dep-4"), std::string::npos) << old.out;
  EXPECT_NE(old.out.find("superseded by dep-4"), std::string::npos) << old.out;

  CmdResult cancel = Vqi("deployment cancel dep-4");
  ASSERT_EQ(cancel.code, 0) << cancel.out;
  CmdResult again = Vqi("deployment cancel dep-4");
  EXPECT_EQ(again.code, 1) << again.out;
  vqi::Json after = JsonOf(Vqi("deployment status dep-4 --json"));
  EXPECT_EQ(after["state"], "CANCELED");
  for (const auto& d : after["devices"]) EXPECT_EQ(d["status"], "CANCELED");
  // Revoke: the certificate goes onto the CRL, the token is revoked, no new deployment reaches it.
  CmdResult revoke = Vqi("thing revoke cam-9");
  ASSERT_EQ(revoke.code, 0) << revoke.out;
  EXPECT_NE(revoke.out.find("1 certificate(s) added to"), std::string::npos) << revoke.out;
  EXPECT_NE(revoke.out.find("device token revoked"), std::string::npos) << revoke.out;
  CmdResult gone = Vqi("deployment create --target thing:cam-9 --file " + dir_ + "/d3.json");
  EXPECT_EQ(gone.code, 1) << gone.out;
  EXPECT_NE(gone.out.find("every thing is revoked"), std::string::npos) << gone.out;

  CmdResult missing = Vqi("deployment status dep-42");
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.out.find("NotFound: deployment 'dep-42' not found"), std::string::npos);
}

}  // namespace
