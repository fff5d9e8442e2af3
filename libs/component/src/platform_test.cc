// SelectManifest and the AWS public component table.
#include "vqi/component/platform.h"

#include <gtest/gtest.h>

#include "vqi/component/aws_components.h"

namespace vqi::component {
namespace {

Recipe ThreeManifests() {
  auto r = ParseRecipe(R"(RecipeFormatVersion: '2020-01-25'
ComponentName: com.example.Hello
ComponentVersion: 1.0.0
Manifests:
  - Name: windows
    Platform: {os: windows}
  - Name: linux-arm
    Platform: {os: linux, architecture: /aarch64|arm/}
  - Name: linux-any-gpu
    Platform: {os: linux, architecture: '*', gpu: nvidia}
  - Name: linux-any
    Platform: {os: linux, architecture: '*'}
)",
                       "r.yaml");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : Recipe{};
}

TEST(PlatformTest, FirstMatchingManifestWins) {
  const Recipe r = ThreeManifests();
  auto m = SelectManifest(r, {{"os", "linux"}, {"architecture", "aarch64"}});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->name, "linux-arm");
  m = SelectManifest(r, {{"os", "Linux"}, {"architecture", "amd64"}});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->name, "linux-any");
  m = SelectManifest(r, {{"os", "linux"}, {"architecture", "amd64"}, {"gpu", "nvidia"}});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->name, "linux-any-gpu");
  m = SelectManifest(r, {{"os", "windows"}});
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->name, "windows");
}

TEST(PlatformTest, NoMatchNamesThePlatformAndTheManifests) {
  auto m = SelectManifest(ThreeManifests(), {{"os", "darwin"}, {"architecture", "aarch64"}});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(m.status().message(),
            "no manifest of com.example.Hello 1.0.0 matches platform {architecture: aarch64, os: "
            "darwin}; the manifests' platforms: Manifests[0] {os: windows}, Manifests[1] "
            "{architecture: /aarch64|arm/, os: linux}, Manifests[2] {architecture: *, gpu: nvidia, "
            "os: linux}, Manifests[3] {architecture: *, os: linux}");
}

TEST(PlatformTest, WildcardMatchesAMissingAttributeButAValueDoesNot) {
  EXPECT_TRUE(PlatformMatches({{"architecture", "*"}}, {{"os", "linux"}}));
  EXPECT_FALSE(PlatformMatches({{"architecture", "amd64"}}, {{"os", "linux"}}));
  EXPECT_TRUE(PlatformMatches({}, {{"os", "linux"}}));
  EXPECT_FALSE(
      PlatformMatches({{"os", "/lin.*/"}}, {{"os", "linux"}}));  // only literal alternatives
}

TEST(PlatformTest, HostPlatformIsLinuxWithAGreengrassArchitecture) {
  const Platform p = HostPlatform();
  EXPECT_EQ(p.at("os"), "linux");
  EXPECT_TRUE(p.at("architecture") == "amd64" || p.at("architecture") == "aarch64" ||
              p.at("architecture") == "arm" || p.at("architecture") == "x86")
      << p.at("architecture");
}

TEST(AwsComponentsTest, ProvidedRefusedAndOrdinary) {
  for (const char* name : {"aws.greengrass.Nucleus", "aws.greengrass.NucleusLite",
                           "aws.greengrass.StreamManager", "aws.greengrass.Cli"})
    EXPECT_EQ(LookupAwsComponent(name).support, AwsSupport::kProvided) << name;
  EXPECT_NE(LookupAwsComponent("aws.greengrass.StreamManager").note.find("spool"),
            std::string::npos);
  EXPECT_NE(LookupAwsComponent("aws.greengrass.Cli").note.find("command line"), std::string::npos);
  for (const char* name :
       {"aws.greengrass.TokenExchangeService", "aws.greengrass.ShadowManager",
        "aws.greengrass.LogManager", "aws.greengrass.DockerApplicationManager",
        "aws.greengrass.SecretManager", "aws.greengrass.clientdevices.mqtt.Moquette",
        "aws.greengrass.LambdaLauncher", "aws.greengrass.DLRImageClassification",
        "aws.greengrass.SomethingNew", "aws.iot.SiteWiseEdgeCollectorOpcua"})
    EXPECT_EQ(LookupAwsComponent(name).support, AwsSupport::kRefused) << name;
  EXPECT_EQ(LookupAwsComponent("com.example.Model").support, AwsSupport::kNotAws);
  EXPECT_EQ(LookupAwsComponent("aws.greengrass.Nucleus2").support, AwsSupport::kRefused);
}

TEST(AwsComponentsTest, RefusalNamesRequirerComponentAndReason) {
  EXPECT_TRUE(CheckAwsDependency("com.example.Inference", "aws.greengrass.StreamManager").ok());
  EXPECT_TRUE(CheckAwsDependency("com.example.Inference", "com.example.Model").ok());
  const Status st =
      CheckAwsDependency("com.example.Inference", "aws.greengrass.TokenExchangeService");
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(),
            "com.example.Inference depends on aws.greengrass.TokenExchangeService, which vqi does "
            "not provide: vqi issues no AWS credentials; components fetch artifacts from `vqi "
            "server` with the device's token");
}

}  // namespace
}  // namespace vqi::component
