// ParseRecipe: what is accepted, and bad input refused with the origin, line and field path.
#include <gtest/gtest.h>

#include "vqi/component/limits.h"
#include "vqi/component/recipe.h"

namespace vqi::component {
namespace {

// A valid YAML recipe; tests replace one line to break it.
constexpr const char* kBase = R"(RecipeFormatVersion: '2020-01-25'
ComponentName: com.example.Hello
ComponentVersion: 1.0.0
ComponentDependencies:
  com.example.Model:
    VersionRequirement: '>=0.0.1'
Manifests:
  - Platform:
      os: linux
    Lifecycle:
      Install:
        Script: echo install
        Timeout: 60
      Run: echo run
    Artifacts:
      - Uri: s3://bucket/hello/hello.zip
        Unarchive: ZIP
)";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// The error of parsing `text`, or "" when it parsed.
std::string Error(const std::string& text, const char* origin = "r.yaml",
                  StatusCode code = StatusCode::kInvalidArgument) {
  auto r = ParseRecipe(text, origin);
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  return r.status().message();
}

#define EXPECT_HAS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

TEST(RecipeParseTest, ParsesTheBaseRecipe) {
  auto r = ParseRecipe(kBase, "r.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->name, "com.example.Hello");
  EXPECT_EQ(r->version, "1.0.0");
  EXPECT_EQ(r->dependencies.at("com.example.Model").version_requirement, ">=0.0.1");
  EXPECT_EQ(r->dependencies.at("com.example.Model").type, DependencyType::kHard);
  ASSERT_EQ(r->manifests.size(), 1u);
  const Manifest& m = r->manifests[0];
  EXPECT_EQ(m.platform.at("os"), "linux");
  EXPECT_EQ(m.lifecycle->steps.at("install").script, "echo install");
  EXPECT_EQ(m.lifecycle->steps.at("install").timeout_seconds, 60);
  EXPECT_EQ(m.lifecycle->steps.at("run").script, "echo run");
  EXPECT_EQ(m.artifacts[0].unarchive, Unarchive::kZip);
  EXPECT_EQ(m.artifacts[0].read, Permission::kOwner);
  EXPECT_EQ(m.artifacts[0].execute, Permission::kNone);
}

// The shapes AWS's documentation and samples use, in one recipe: an empty configuration and an
// empty top-level Lifecycle, a dependency without DependencyType, the nucleus as a SOFT
// dependency, `URI`, `Install` with `Skipif`, lower-case `script`, a plain `install` string
// beside `Run`, a Windows manifest and a base64 digest.
TEST(RecipeParseTest, AwsDocumentationShapesLoad) {
  auto r = ParseRecipe(R"({
  "RecipeFormatVersion": "2020-01-25",
  "ComponentName": "com.example.BatteryAware",
  "ComponentVersion": "1.0.0",
  "ComponentConfiguration": {},
  "ComponentDependencies": {
    "aws.greengrass.Nucleus": {"VersionRequirement": "~2.0.0", "DependencyType": "SOFT"},
    "com.example.Helper": {"VersionRequirement": "^1.1.0"}
  },
  "Manifests": [
    {"Platform": {"os": "linux", "architecture": "amd64"},
     "Name": "64-bit x86_64 - Linux",
     "Lifecycle": {
       "Install": {"Skipif": "onpath git", "Script": "sudo apt-get install git"},
       "Run": {"RequiresPrivilege": true, "script": "/bin/bash {artifacts:decompressedPath}/app/run.sh \"{configuration:/Threshold}\""}
     },
     "Artifacts": [{"URI": "s3://DOC-EXAMPLE-BUCKET/app.zip", "Unarchive": "ZIP",
                    "Digest": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "Algorithm": "SHA-256",
                    "Permission": {"Read": "OWNER", "Execute": "NONE"}}]},
    {"Platform": {"os": "windows"},
     "Lifecycle": {"install": "py -3 -m pip install --user awsiotsdk", "Run": "py -3 -u {artifacts:decompressedPath}\\app\\main.py"},
     "Artifacts": [{"URI": "s3://DOC-EXAMPLE-BUCKET/app.zip", "Unarchive": "ZIP"}]}
  ],
  "Lifecycle": {}
})",
                       "aws.json");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->dependencies.at("com.example.Helper").type, DependencyType::kHard);
  EXPECT_EQ(r->dependencies.at("aws.greengrass.Nucleus").type, DependencyType::kSoft);
  EXPECT_EQ(r->manifests[0].lifecycle->steps.at("install").skip_if, "onpath git");
  EXPECT_TRUE(r->manifests[0].lifecycle->steps.at("run").requires_privilege);
  EXPECT_EQ(r->manifests[0].artifacts[0].digest,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(r->manifests[1].lifecycle->steps.at("install").script,
            "py -3 -m pip install --user awsiotsdk");
  EXPECT_TRUE(r->lifecycle.has_value());
}

TEST(RecipeParseTest, MalformedJsonNamesOriginAndLine) {
  const std::string e =
      Error("{\n  \"ComponentName\": \"x\",\n  \"ComponentVersion\": ,\n}", "r.json");
  EXPECT_HAS(e, "r.json:3: ");
  EXPECT_HAS(e, "malformed JSON");
}

TEST(RecipeParseTest, MalformedYamlNamesOriginAndLine) {
  const std::string e = Error(Replace(kBase, "      Run: echo run", "      Run: [echo run"));
  EXPECT_HAS(e, "r.yaml:");
  EXPECT_HAS(e, "malformed YAML");
  EXPECT_EQ(Error("a: b\n c: d\n  - e"), Error("a: b\n c: d\n  - e"));  // deterministic
  EXPECT_HAS(Error("a: [1, 2\n"), "malformed YAML");
}

TEST(RecipeParseTest, ValidationErrorsNameLineAndFieldPathInYaml) {
  const std::string e = Error(Replace(kBase, "Timeout: 60", "Timeout: -5"));
  EXPECT_HAS(
      e, "r.yaml:13: Manifests[0].Lifecycle.Install.Timeout: must be an integer from 1 to 86400");
}

TEST(RecipeParseTest, ValidationErrorsNameLineAndFieldPathInJson) {
  const std::string e = Error(R"({
  "RecipeFormatVersion": "2020-01-25",
  "ComponentName": "c",
  "ComponentVersion": "1.0.0",
  "Manifests": [
    {"Platform": {"os": "linux"}},
    {"Lifecycle": {
       "install": {"Script": "x", "RequiresPrivilege": "maybe"}}}
  ]
})",
                              "r.json");
  EXPECT_HAS(e,
             "r.json:8: Manifests[1].Lifecycle.install.RequiresPrivilege: must be true or false");
}

TEST(RecipeParseTest, MissingRequiredFieldsAreNamed) {
  struct Case {
    std::string from, to, expect;
  } cases[] = {
      {"ComponentName: com.example.Hello\n", "", "missing required key 'ComponentName'"},
      {"ComponentVersion: 1.0.0\n", "", "missing required key 'ComponentVersion'"},
      {"RecipeFormatVersion: '2020-01-25'\n", "", "missing required key 'RecipeFormatVersion'"},
      {"    VersionRequirement: '>=0.0.1'\n", "    DependencyType: HARD\n",
       "ComponentDependencies.com.example.Model: missing required key 'VersionRequirement'"},
      {"        Script: echo install\n", "",
       "Manifests[0].Lifecycle.Install: missing required key 'Script'"},
      {"      - Uri: s3://bucket/hello/hello.zip\n",
       "      - Digest: " + std::string(64, 'a') + "\n",
       "Manifests[0].Artifacts[0]: missing required key 'Uri'"},
  };
  for (const Case& c : cases) EXPECT_HAS(Error(Replace(kBase, c.from, c.to)), c.expect);
}

TEST(RecipeParseTest, UnknownTopLevelKeyIsRefusedWithTheAcceptedList) {
  const std::string e = Error(Replace(kBase, "ComponentDependencies:", "ComponentDependecies:"));
  EXPECT_HAS(e, "r.yaml:4: ComponentDependecies: unknown key 'ComponentDependecies'; accepted: ");
  EXPECT_HAS(e, "ComponentDependencies");
  EXPECT_HAS(e, "Manifests");
}

TEST(RecipeParseTest, UnknownNestedKeysAreRefused) {
  EXPECT_HAS(
      Error(Replace(kBase, "Timeout: 60", "Timout: 60")),
      "Manifests[0].Lifecycle.Install.Timout: unknown key 'Timout'; accepted: Script, Timeout");
  EXPECT_HAS(Error(Replace(kBase, "      Run: echo run", "      Runn: echo run")),
             "Manifests[0].Lifecycle.Runn: unknown lifecycle key 'Runn'");
  EXPECT_HAS(Error(Replace(kBase, "Unarchive: ZIP", "Unzip: ZIP")),
             "Manifests[0].Artifacts[0].Unzip: unknown key 'Unzip'");
}

TEST(RecipeParseTest, KeysDifferingOnlyInCaseAreRefused) {
  EXPECT_HAS(Error(Replace(kBase, "      Run: echo run", "      Run: echo run\n      run: echo 2")),
             "Manifests[0].Lifecycle.");
  EXPECT_HAS(Error(Replace(kBase, "      Run: echo run", "      Run: echo run\n      run: echo 2")),
             "differ only in case");
  EXPECT_HAS(Error(Replace(kBase, "ComponentVersion: 1.0.0",
                           "ComponentVersion: 1.0.0\ncomponentversion: 2.0.0")),
             "differ only in case");
  EXPECT_HAS(
      Error(Replace(kBase, "        Script: echo install", "        Script: a\n        SCRIPT: b")),
      "Manifests[0].Lifecycle.Install.");
}

TEST(RecipeParseTest, ExactDuplicateKeysAreRefusedInJsonAndYaml) {
  EXPECT_HAS(Error(Replace(kBase, "      Run: echo run", "      Run: echo run\n      Run: echo 2")),
             "r.yaml:15: Manifests[0].Lifecycle.Run: duplicate key 'Run'");
  EXPECT_HAS(Error(R"({"RecipeFormatVersion": "2020-01-25", "ComponentName": "a",
"ComponentName": "b", "ComponentVersion": "1.0.0"})",
                   "r.json"),
             "r.json:2: ComponentName: duplicate key 'ComponentName'");
}

TEST(RecipeParseTest, FieldValuesAreChecked) {
  EXPECT_HAS(Error(Replace(kBase, "'2020-01-25'", "'2021-01-01'")),
             "RecipeFormatVersion: must be '2020-01-25', not '2021-01-01'");
  EXPECT_HAS(Error(Replace(kBase, "ComponentVersion: 1.0.0", "ComponentVersion: 1.0.0/../x")),
             "ComponentVersion: '1.0.0/../x' is not a semantic version (MAJOR.MINOR.PATCH");
  EXPECT_HAS(Error(Replace(kBase, "ComponentVersion: 1.0.0",
                           "ComponentVersion: '" + std::string(65, '1') + "'"),
                   "r.yaml", StatusCode::kResourceExhausted),
             "r.yaml:3: ComponentVersion: version '11111");
  EXPECT_HAS(Error(Replace(kBase, "ComponentVersion: 1.0.0", "ComponentVersion: 1.0")),
             "r.yaml:3: ComponentVersion: must be a string, not the number 1.0");
  EXPECT_HAS(Error(Replace(kBase, "ComponentVersion: 1.0.0", "ComponentVersion: '1.0'")),
             "r.yaml:3: ComponentVersion: '1.0' is not a semantic version (MAJOR.MINOR.PATCH, e.g. "
             "1.2.0)");
  EXPECT_HAS(
      Error(Replace(kBase, "    VersionRequirement: '>=0.0.1'",
                    "    VersionRequirement: '>=1.x.0 <<2'")),
      "r.yaml:6: ComponentDependencies.com.example.Model.VersionRequirement: range '>=1.x.0 <<2'");
  EXPECT_HAS(Error(Replace(kBase, "ComponentVersion: 1.0.0", "ComponentVersion: 1.10")),
             "r.yaml:3: ComponentVersion: must be a string, not the number 1.1 (quote it");
  EXPECT_HAS(Error(Replace(kBase, "ComponentVersion: 1.0.0", "ComponentVersion: ''")),
             "r.yaml:3: ComponentVersion: empty; expected a semantic version");
  EXPECT_HAS(Error(Replace(kBase, "ComponentName: com.example.Hello", "ComponentName: ../evil")),
             "ComponentName: '../evil' is not a component name");
  EXPECT_HAS(Error(Replace(kBase, "    VersionRequirement: '>=0.0.1'",
                           "    VersionRequirement: '>=0.0.1'\n    DependencyType: MEDIUM")),
             "ComponentDependencies.com.example.Model.DependencyType: must be one of HARD, SOFT");
  EXPECT_HAS(Error(Replace(kBase, "Unarchive: ZIP", "Unarchive: TAR")),
             "Manifests[0].Artifacts[0].Unarchive: must be one of NONE, ZIP, not \"TAR\"");
  EXPECT_HAS(Error(Replace(kBase, "Unarchive: ZIP",
                           "Algorithm: SHA-512\n        Digest: " + std::string(64, 'a'))),
             "Manifests[0].Artifacts[0].Algorithm: must be SHA-256");
  EXPECT_HAS(Error(Replace(kBase, "Unarchive: ZIP", "Digest: abc")),
             "Manifests[0].Artifacts[0].Digest: 'abc' is not a SHA-256 digest");
  EXPECT_HAS(Error(Replace(kBase, "Unarchive: ZIP", "Permission: {Read: ALL, Execute: EVERYONE}")),
             "Manifests[0].Artifacts[0].Permission.Execute: must be one of NONE, OWNER, ALL");
  EXPECT_HAS(
      Error(Replace(kBase, "    VersionRequirement",
                    "    VersionRequirement: '1'\n  com.example.Hello:\n    VersionRequirement")),
      "ComponentDependencies.com.example.Hello: a component cannot depend on itself");
}

TEST(RecipeParseTest, NulCharactersInStringsAreRefused) {
  EXPECT_HAS(Error(Replace(kBase, "      Run: echo run", "      Run: \"echo run\\0; rm -rf /\"")),
             "r.yaml:14: Manifests[0].Lifecycle.Run: contains a NUL character");
  EXPECT_HAS(Error(R"({"RecipeFormatVersion": "2020-01-25", "ComponentName": "c",
    "ComponentVersion": "1.0.0", "ComponentDescription": "a\u0000b"})",
                   "r.json"),
             "r.json:2: ComponentDescription: contains a NUL character");
}

TEST(RecipeParseTest, StartupAndRunExcludeEachOther) {
  EXPECT_HAS(
      Error(Replace(kBase, "      Run: echo run", "      Run: echo run\n      startup: echo s")),
      "Manifests[0].Lifecycle: 'startup' and 'run' exclude each other");
}

TEST(RecipeParseTest, SkipifAndStepOptions) {
  auto r = ParseRecipe(
      Replace(kBase, "Timeout: 60",
              "Timeout: '60'\n        Skipif: ONPATH  python3\n        RequiresPrivilege: 'true'\n"
              "        Setenv: {PORT: 8080, MODE: fast}"),
      "r.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const LifecycleStep& s = r->manifests[0].lifecycle->steps.at("install");
  EXPECT_EQ(s.skip_if, "onpath python3");
  EXPECT_EQ(s.timeout_seconds, 60);
  EXPECT_TRUE(s.requires_privilege);
  EXPECT_EQ(s.setenv.at("PORT"), "8080");
  EXPECT_HAS(
      Error(Replace(kBase, "Timeout: 60", "Skipif: maybe python3")),
      "Manifests[0].Lifecycle.Install.Skipif: must be 'onpath <executable>' or 'exists <file>'");
  EXPECT_HAS(Error(Replace(kBase, "Timeout: 60", "BootstrapOnRollback: true")),
             "unknown key 'BootstrapOnRollback'");
}

TEST(RecipeParseTest, ArtifactNamesMustBePlain) {
  const char* bad[] = {"s3://bucket/../../etc/passwd",
                       "s3://bucket/dir/..",
                       "../escape.zip",
                       "dir/file.zip",
                       "s3://bucket/a\\b.zip",
                       "/etc/passwd",
                       "vqi://artifacts/abc/file",
                       "s3://bucket/",
                       "ftp://host/file.zip"};
  for (const char* uri : bad) {
    const std::string e =
        Error(Replace(kBase, "s3://bucket/hello/hello.zip", std::string("'") + uri + "'"));
    EXPECT_HAS(e, "r.yaml:16: Manifests[0].Artifacts[0].Uri: ");
  }
  // A control character, written as a JSON escape.
  EXPECT_HAS(
      Error(
          R"({"RecipeFormatVersion": "2020-01-25", "ComponentName": "c", "ComponentVersion": "1.0.0",
    "Manifests": [{"Artifacts": [{"Uri": "s3://b/a\u0001.zip"}]}]})",
          "r.json"),
      "Manifests[0].Artifacts[0].Uri: 's3://b/a\x01.zip': the file name contains a control "
      "character");
  EXPECT_HAS(Error(Replace(kBase, "s3://bucket/hello/hello.zip", "docker:nginx:latest")),
             "DockerApplicationManager");
}

TEST(RecipeParseTest, TwoArtifactsWithOneFileNameAreRefused) {
  EXPECT_HAS(Error(Replace(kBase, "        Unarchive: ZIP",
                           "        Unarchive: ZIP\n      - Uri: s3://other/x/hello.zip")),
             "Manifests[0].Artifacts[1].Uri: file name 'hello.zip' is also the file name of "
             "Manifests[0].Artifacts[0]");
}

TEST(RecipeParseTest, LimitsAreResourceExhausted) {
  EXPECT_HAS(Error(std::string(kBase) + "#" + std::string(kMaxRecipeBytes, 'x'), "r.yaml",
                   StatusCode::kResourceExhausted),
             "more than the maximum of 1048576");
  const std::string deep_yaml =
      "RecipeFormatVersion: '2020-01-25'\nComponentConfiguration:\n  DefaultConfiguration:\n    "
      "a: " +
      std::string(100, '[') + std::string(100, ']') + "\n";
  EXPECT_HAS(Error(deep_yaml, "r.yaml", StatusCode::kResourceExhausted), "nested deeper than 64");
  EXPECT_HAS(Error("{\"a\": " + std::string(100, '[') + std::string(100, ']') + "}", "r.json",
                   StatusCode::kResourceExhausted),
             "nested deeper than 64");
  // "Billion laughs": each level doubles ten times; refused, not expanded.
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c)
    bomb += std::string(1, c) + ": &" + c + " [*" + char(c - 1) + ", *" + char(c - 1) + ", *" +
            char(c - 1) + ", *" + char(c - 1) + ", *" + char(c - 1) + ", *" + char(c - 1) + ", *" +
            char(c - 1) + ", *" + char(c - 1) + ", *" + char(c - 1) + ", *" + char(c - 1) + "]\n";
  EXPECT_HAS(Error(bomb, "r.yaml", StatusCode::kResourceExhausted),
             "expands to more than 100000 nodes");
  std::string manifests =
      "RecipeFormatVersion: '2020-01-25'\nComponentName: c\nComponentVersion: 1.0.0\nManifests:\n";
  for (size_t i = 0; i <= kMaxManifests; ++i) manifests += "  - Platform: {os: linux}\n";
  EXPECT_HAS(Error(manifests, "r.yaml", StatusCode::kResourceExhausted),
             "Manifests: has 65 manifests, more than 64");
}

TEST(RecipeParseTest, OddDocumentsAreRefusedClearly) {
  EXPECT_HAS(Error("", "r.yaml"), "r.yaml: the recipe is empty");
  EXPECT_HAS(Error("  \n\t\n", "r.yaml"), "the recipe is empty");
  EXPECT_HAS(Error(std::string(kBase) + "---\nComponentName: b\n"),
             "r.yaml:18: a second YAML document starts here; a recipe is exactly one");
  // Found by recipe_fuzz: yaml-cpp's LoadAll looped forever on text after a first document.
  EXPECT_HAS(Error(R"x(---
# The inference component, written the way AWS's sample recipes are (capitalised Install and
# Script, RequiresPrivil [
        {
          "Uri": "s32//BUCKET_NAME/model/COMPONENT_VERSION/model.onnx",
          "Permission": {
            "Read": "ALL"
          }
        },
        {
       accessControl:
      aws.grePermission:
          Read: OWNER
          Execute: OWNER
)x"),
             "r.yaml:9: a second YAML document starts here");
  EXPECT_HAS(Error("- a\n- b\n"), "must be an object");
  EXPECT_HAS(Error("just text"), "must be an object");
  EXPECT_HAS(Error(std::string("{\"a\":\0}", 8), "r.json"), "NUL byte");
  EXPECT_HAS(Error("x: !!binary aGVsbG8=\n"), "unsupported YAML tag");
  // Found by recipe_fuzz: invalid UTF-8 in YAML made the canonical dump throw.
  EXPECT_HAS(Error("ComponentName: a\nComponentDescription: caf\xce\n"),
             "r.yaml:2: the recipe is not UTF-8 text (byte 42)");
  EXPECT_HAS(Error("a: \xed\xa0\x80\n"), "not UTF-8");  // a surrogate
  EXPECT_HAS(Error("a: \xc0\xaf\n"), "not UTF-8");      // an overlong '/'
  EXPECT_EQ(Error("ComponentDescription: caf\xc3\xa9 \xf0\x9f\x94\x8d\n"),
            "r.yaml: missing required key 'RecipeFormatVersion'");  // valid UTF-8 passes
}

}  // namespace
}  // namespace vqi::component
