// RecipeToJson: JSON and YAML of one recipe give the same canonical form; key case does not
// matter; defaults are filled; the form round-trips.
#include <gtest/gtest.h>

#include "vqi/component/recipe.h"

namespace vqi::component {
namespace {

constexpr const char* kJson = R"({
  "RecipeFormatVersion": "2020-01-25",
  "ComponentName": "com.example.Inference",
  "ComponentVersion": "1.2.3",
  "ComponentDescription": "Inspects images.",
  "ComponentPublisher": "Example Corp",
  "ComponentConfiguration": {
    "DefaultConfiguration": {
      "threshold": 0.5, "topic": "vqi/v1/results", "retries": 3, "enabled": true, "none": null,
      "accessControl": {"aws.greengrass.ipc.pubsub": {"com.example.Inference:pubsub:1": {
        "policyDescription": "publish results", "operations": ["aws.greengrass#PublishToTopic"],
        "resources": ["vqi/v1/results/*"]}}}
    }
  },
  "ComponentDependencies": {
    "com.example.Model": {"VersionRequirement": ">=0.0.1", "DependencyType": "HARD"},
    "aws.greengrass.StreamManager": {"VersionRequirement": "^2.0.0", "DependencyType": "SOFT"}
  },
  "Manifests": [{
    "Platform": {"os": "linux", "architecture": "amd64"},
    "Lifecycle": {
      "setEnv": {"MODEL_DIR": "{com.example.Model:artifacts:path}"},
      "install": {"Script": "pip3 install -r {artifacts:decompressedPath}/inference/requirements.txt",
                  "RequiresPrivilege": true, "Timeout": 300},
      "run": "python3 -u {artifacts:decompressedPath}/inference/main.py"
    },
    "Artifacts": [{"Uri": "s3://bucket/inference/1.2.3/inference.zip", "Unarchive": "ZIP",
                   "Permission": {"Read": "ALL", "Execute": "OWNER"}}]
  }]
})";

// The same recipe as AWS's samples write it in YAML: other key case, plain scalars.
constexpr const char* kYaml = R"(---
RecipeFormatVersion: '2020-01-25'
ComponentName: com.example.Inference
ComponentVersion: 1.2.3
ComponentDescription: Inspects images.
ComponentPublisher: Example Corp
ComponentConfiguration:
  DefaultConfiguration:
    threshold: 0.5
    topic: vqi/v1/results
    retries: 3
    enabled: true
    none: ~
    accessControl:
      aws.greengrass.ipc.pubsub:
        com.example.Inference:pubsub:1:
          policyDescription: publish results
          operations:
            - aws.greengrass#PublishToTopic
          resources:
            - vqi/v1/results/*
ComponentDependencies:
  com.example.Model:
    VersionRequirement: '>=0.0.1'
  aws.greengrass.StreamManager:
    VersionRequirement: ^2.0.0
    DependencyType: soft
Manifests:
  - Platform:
      os: linux
      architecture: amd64
    Lifecycle:
      SetEnv:
        MODEL_DIR: '{com.example.Model:artifacts:path}'
      Install:
        Script: pip3 install -r {artifacts:decompressedPath}/inference/requirements.txt
        RequiresPrivilege: true
        timeout: 300
      Run: python3 -u {artifacts:decompressedPath}/inference/main.py
    Artifacts:
      - URI: s3://bucket/inference/1.2.3/inference.zip
        Unarchive: zip
        Permission:
          Read: ALL
          Execute: OWNER
)";

TEST(RecipeCanonicalTest, JsonAndYamlOfOneRecipeGiveEqualCanonicalJson) {
  auto j = ParseRecipe(kJson, "inference.json");
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  auto y = ParseRecipe(kYaml, "inference.yaml");
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  EXPECT_EQ(*j, *y);
  EXPECT_EQ(RecipeToJson(*j).dump(), RecipeToJson(*y).dump());
}

TEST(RecipeCanonicalTest, DefaultsAreFilledAndKeysCanonical) {
  auto y = ParseRecipe(kYaml, "inference.yaml");
  ASSERT_TRUE(y.ok()) << y.status().ToString();
  const Json c = RecipeToJson(*y);
  EXPECT_EQ(c["ComponentType"], "aws.greengrass.generic");
  EXPECT_EQ(c["ComponentDependencies"]["com.example.Model"]["DependencyType"], "HARD");
  EXPECT_EQ(c["ComponentDependencies"]["aws.greengrass.StreamManager"]["DependencyType"], "SOFT");
  const Json& l = c["Manifests"][0]["Lifecycle"];
  EXPECT_EQ(l["setEnv"]["MODEL_DIR"], "{com.example.Model:artifacts:path}");
  EXPECT_EQ(l["install"]["Timeout"], 300);
  EXPECT_EQ(l["install"]["RequiresPrivilege"], true);
  // A plain string step becomes an object with its defaults.
  EXPECT_EQ(l["run"], (Json{{"Script", "python3 -u {artifacts:decompressedPath}/inference/main.py"},
                            {"RequiresPrivilege", false}}));
  const Json& a = c["Manifests"][0]["Artifacts"][0];
  EXPECT_EQ(a["Uri"], "s3://bucket/inference/1.2.3/inference.zip");
  EXPECT_EQ(a["Unarchive"], "ZIP");
  EXPECT_EQ(a["Permission"], (Json{{"Read", "ALL"}, {"Execute", "OWNER"}}));
  EXPECT_FALSE(a.contains("Digest"));
  EXPECT_EQ(c["ComponentConfiguration"]["DefaultConfiguration"]["retries"], 3);
  EXPECT_TRUE(c["ComponentConfiguration"]["DefaultConfiguration"]["none"].is_null());
}

TEST(RecipeCanonicalTest, CanonicalFormRoundTripsAndIsStable) {
  auto r = ParseRecipe(kYaml, "inference.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Json c = RecipeToJson(*r);
  auto back = RecipeFromJson(c, "canonical");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, *r);
  EXPECT_EQ(RecipeToJson(*back).dump(), c.dump());
  // And through text again.
  auto again = ParseRecipe(c.dump(2), "canonical.json");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(RecipeToJson(*again).dump(), c.dump());
}

TEST(RecipeCanonicalTest, LifecycleKeysInAnyCaseGiveOneCanonicalForm) {
  std::string canonical;
  for (const char* spelling : {"install", "Install", "INSTALL", "iNsTaLl"}) {
    for (const char* script : {"Script", "script", "SCRIPT"}) {
      const std::string text = std::string(R"({"RecipeFormatVersion": "2020-01-25",
        "ComponentName": "c", "ComponentVersion": "1.0.0", "Manifests": [{"Lifecycle": {")") +
                               spelling + R"(": {")" + script +
                               R"(": "make", "requiresprivilege": "TRUE"}}}]})";
      auto r = ParseRecipe(text, "r.json");
      ASSERT_TRUE(r.ok()) << spelling << "/" << script << ": " << r.status().ToString();
      const LifecycleStep& s = r->manifests[0].lifecycle->steps.at("install");
      EXPECT_EQ(s.script, "make");
      EXPECT_TRUE(s.requires_privilege);
      const std::string dump = RecipeToJson(*r).dump();
      if (canonical.empty()) canonical = dump;
      EXPECT_EQ(dump, canonical) << spelling << "/" << script;
    }
  }
}

TEST(RecipeCanonicalTest, Base64AndHexDigestsGiveTheSameCanonicalDigest) {
  // SHA-256("") in hex and in Greengrass's base64.
  const std::string hex = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  for (const std::string& digest :
       {hex, std::string("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="),
        std::string("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")}) {
    const std::string text = R"({"RecipeFormatVersion": "2020-01-25", "ComponentName": "c",
      "ComponentVersion": "1.0.0", "Manifests": [{"Artifacts": [{"Uri": "s3://b/f.bin",
      "Digest": ")" + digest +
                             R"("}]}]})";
    auto r = ParseRecipe(text, "r.json");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->manifests[0].artifacts[0].digest, hex);
    EXPECT_EQ(RecipeToJson(*r)["Manifests"][0]["Artifacts"][0]["Algorithm"], "SHA-256");
  }
}

TEST(RecipeCanonicalTest, YamlScalarsFollowTheCoreSchema) {
  auto r = ParseRecipe(R"(RecipeFormatVersion: "2020-01-25"
ComponentName: c
ComponentVersion: 1.0.0
ComponentConfiguration:
  DefaultConfiguration:
    int: 42
    neg: -7
    hex: 0x1f
    float: 1.5e3
    quoted: "42"
    yes: yes
    text: hello world
    empty:
    inf: .inf
)",
                       "r.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Json& c = r->default_configuration;
  EXPECT_EQ(c["int"], 42);
  EXPECT_EQ(c["neg"], -7);
  EXPECT_EQ(c["hex"], 31);
  EXPECT_EQ(c["float"], 1500.0);
  EXPECT_EQ(c["quoted"], "42");
  EXPECT_EQ(c["yes"], "yes");  // YAML 1.2: only true/false are booleans
  EXPECT_EQ(c["text"], "hello world");
  EXPECT_TRUE(c["empty"].is_null());
  EXPECT_EQ(c["inf"], ".inf");
}

TEST(RecipeCanonicalTest, TopLevelLifecycleWithSelections) {
  auto r = ParseRecipe(R"(RecipeFormatVersion: 2020-01-25
ComponentName: c
ComponentVersion: 1.0.0
Manifests:
  - Platform: {os: linux}
    Selections: [linux]
  - Platform: {os: darwin}
Lifecycle:
  setEnv: {A: "1"}
  all:
    Run: echo all
  linux:
    Run: echo linux
    Install: echo install-linux
)",
                       "r.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Lifecycle linux = EffectiveLifecycle(*r, r->manifests[0]);
  EXPECT_EQ(linux.steps.at("run").script, "echo linux");
  EXPECT_EQ(linux.steps.at("install").script, "echo install-linux");
  EXPECT_EQ(linux.setenv.at("A"), "1");
  // The section's startup replaces the top-level run (they exclude each other).
  Recipe with_startup = *r;
  with_startup.lifecycle_selections["linux"].steps.erase("run");
  with_startup.lifecycle_selections["linux"].steps["startup"].script = "echo start";
  with_startup.lifecycle->steps["run"].script = "echo top";
  const Lifecycle merged = EffectiveLifecycle(with_startup, with_startup.manifests[0]);
  EXPECT_EQ(merged.steps.at("startup").script, "echo start");
  EXPECT_EQ(merged.steps.count("run"), 0u);
  const Lifecycle darwin = EffectiveLifecycle(*r, r->manifests[1]);
  EXPECT_EQ(darwin.steps.at("run").script, "echo all");
  EXPECT_EQ(darwin.steps.count("install"), 0u);
  auto back = RecipeFromJson(RecipeToJson(*r), "canonical");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, *r);
}

TEST(RecipeCanonicalTest, YamlMergeKeysApplyLikeSnakeYaml) {
  auto r = ParseRecipe(R"(RecipeFormatVersion: 2020-01-25
ComponentName: c
ComponentVersion: 1.0.0
Manifests:
  - Platform: &linux {os: linux, architecture: amd64}
    Lifecycle: &life
      run: echo run
      install: echo install
  - Platform:
      <<: *linux
      architecture: aarch64
    Lifecycle:
      <<: *life
      run: echo arm
)",
                       "r.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->manifests[1].platform.at("os"), "linux");
  EXPECT_EQ(r->manifests[1].platform.at("architecture"), "aarch64");
  EXPECT_EQ(r->manifests[1].lifecycle->steps.at("run").script, "echo arm");
  EXPECT_EQ(r->manifests[1].lifecycle->steps.at("install").script, "echo install");
}

TEST(RecipeCanonicalTest, AMappingThatMergesItselfIsRefusedNotRecursedForever) {
  // recipe_fuzz: the alias of a mapping used as a merge key inside that same mapping.
  auto r = ParseRecipe(R"(RecipeFormatVersion: 2020-01-25
ComponentName: c
ComponentVersion: 1.0.0
Manifests:
  - Platform: &p
      <<: *p
      os: linux
    Lifecycle:
      run: echo
)",
                       "r.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status().ToString();
  EXPECT_NE(r.status().message().find("r.yaml:7: Manifests[0].Platform.os: "), std::string::npos)
      << r.status().ToString();
  EXPECT_NE(r.status().message().find("nested deeper than 64 levels"), std::string::npos)
      << r.status().ToString();
}

}  // namespace
}  // namespace vqi::component
