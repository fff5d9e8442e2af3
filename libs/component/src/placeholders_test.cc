// FillPlaceholders and MapArtifactUris.
#include "vqi/component/placeholders.h"

#include <gtest/gtest.h>

#include "vqi/component/artifacts.h"

namespace vqi::component {
namespace {

constexpr const char* kRecipe = R"(RecipeFormatVersion: '2020-01-25'
ComponentName: COMPONENT_NAME
ComponentVersion: '{COMPONENT_VERSION}'
ComponentDescription: built by MY_BUCKET_NAME_TOOL for COMPONENT_NAME
Manifests:
  - Artifacts:
      - Uri: s3://BUCKET_NAME/COMPONENT_NAME/COMPONENT_VERSION/app.zip
        Unarchive: ZIP
      - Uri: s3://BUCKET_NAME/COMPONENT_NAME/COMPONENT_VERSION/weights.bin
      - Uri: README.md
      - Uri: https://example.com/static/labels.txt
)";

const std::map<std::string, std::string> kVars = {{"COMPONENT_NAME", "com.example.App"},
                                                  {"COMPONENT_VERSION", "2.1.0"},
                                                  {"BUCKET_NAME", "my-bucket"}};

TEST(PlaceholdersTest, FillsWholeWordsAndGdkBraces) {
  auto text = FillPlaceholders(kRecipe, kVars);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  auto r = ParseRecipe(*text, "r.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->name, "com.example.App");
  EXPECT_EQ(r->version, "2.1.0");
  EXPECT_EQ(r->description, "built by MY_BUCKET_NAME_TOOL for com.example.App");
  EXPECT_EQ(r->manifests[0].artifacts[0].uri, "s3://my-bucket/com.example.App/2.1.0/app.zip");
}

TEST(PlaceholdersTest, ShellStylePlaceholders) {
  auto text = FillPlaceholders(R"({"RecipeFormatVersion": "2020-01-25", "ComponentName": "c",
    "ComponentVersion": "${COMPONENT_VERSION}", "Manifests": [{"Artifacts": [
    {"URI": "s3://${BUCKET_NAME}/artifacts/app.zip"}]}]})",
                               {{"COMPONENT_VERSION", "1.0.0"}, {"BUCKET_NAME", "b"}});
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  auto r = ParseRecipe(*text, "r.json");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version, "1.0.0");
  EXPECT_EQ(r->manifests[0].artifacts[0].uri, "s3://b/artifacts/app.zip");
}

TEST(PlaceholdersTest, UnfilledPlaceholdersAreNamed) {
  auto no_version = FillPlaceholders(kRecipe, {{"COMPONENT_NAME", "a"}, {"BUCKET_NAME", "b"}});
  ASSERT_FALSE(no_version.ok());
  EXPECT_EQ(no_version.status().message(),
            "ComponentVersion: placeholder COMPONENT_VERSION is not filled; pass --var "
            "COMPONENT_VERSION=<value>");
  auto no_bucket =
      FillPlaceholders(kRecipe, {{"COMPONENT_NAME", "a"}, {"COMPONENT_VERSION", "1.0.0"}});
  ASSERT_FALSE(no_bucket.ok());
  EXPECT_EQ(no_bucket.status().message(),
            "Manifests[0].Artifacts[0].Uri: placeholder BUCKET_NAME is not filled; pass --var "
            "BUCKET_NAME=<value>");
}

TEST(PlaceholdersTest, BadVarsAreRefused) {
  auto vars = kVars;
  vars["COMPONENT_VERSON"] = "1";  // typo
  EXPECT_NE(FillPlaceholders(kRecipe, vars)
                .status()
                .message()
                .find("--var COMPONENT_VERSON: the recipe does not contain the placeholder"),
            std::string::npos);
  vars = kVars;
  vars["BUCKET_NAME"] = "b\nLifecycle: {run: evil}";
  EXPECT_NE(
      FillPlaceholders(kRecipe, vars).status().message().find("may not contain control characters"),
      std::string::npos);
  vars = kVars;
  vars["A-B"] = "x";
  EXPECT_NE(
      FillPlaceholders(kRecipe, vars).status().message().find("--var A-B: a placeholder is a word"),
      std::string::npos);
}

Recipe Filled() {
  auto text = FillPlaceholders(kRecipe, kVars);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  auto r = ParseRecipe(text.ok() ? *text : "", "r.yaml");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : Recipe{};
}

const std::string kAppDigest(64, 'a');
const std::string kWeightsDigest(64, 'b');
const std::string kReadmeDigest(64, 'c');

TEST(MapArtifactUrisTest, S3AndBareNamesBecomeContentAddresses) {
  Recipe r = Filled();
  ASSERT_TRUE(MapArtifactUris(&r, {{"app.zip", {kAppDigest, 10}},
                                   {"weights.bin", {kWeightsDigest, 20}},
                                   {"README.md", {kReadmeDigest, 30}}})
                  .ok());
  const auto& a = r.manifests[0].artifacts;
  EXPECT_EQ(a[0].uri, "vqi://artifacts/" + kAppDigest + "/app.zip");
  EXPECT_EQ(a[0].digest, kAppDigest);
  EXPECT_EQ(a[0].algorithm, "SHA-256");
  EXPECT_EQ(a[0].unarchive, Unarchive::kZip);
  EXPECT_EQ(a[1].uri, "vqi://artifacts/" + kWeightsDigest + "/weights.bin");
  EXPECT_EQ(a[2].uri, "vqi://artifacts/" + kReadmeDigest + "/README.md");
  EXPECT_EQ(a[3].uri, "https://example.com/static/labels.txt");
  EXPECT_TRUE(a[3].digest.empty());
  // The mapped recipe is still valid and round-trips.
  auto back = RecipeFromJson(RecipeToJson(r), "canonical");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
}

TEST(MapArtifactUrisTest, MissingUploadIsNamed) {
  Recipe r = Filled();
  const Status st =
      MapArtifactUris(&r, {{"app.zip", {kAppDigest, 10}}, {"README.md", {kReadmeDigest, 1}}});
  EXPECT_EQ(st.code(), StatusCode::kNotFound);
  EXPECT_EQ(
      st.message(),
      "Manifests[0].Artifacts[1].Uri: 's3://my-bucket/com.example.App/2.1.0/weights.bin' "
      "refers to the file 'weights.bin', which was not uploaded (uploaded: README.md, app.zip)");
}

TEST(MapArtifactUrisTest, RecipeDigestMustMatchTheUpload) {
  Recipe r = Filled();
  r.manifests[0].artifacts[1].digest = kAppDigest;
  const Status st = MapArtifactUris(&r, {{"app.zip", {kAppDigest, 10}},
                                         {"weights.bin", {kWeightsDigest, 20}},
                                         {"README.md", {kReadmeDigest, 30}}});
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "Manifests[0].Artifacts[1].Digest: the recipe gives " + kAppDigest +
                              " for 's3://my-bucket/com.example.App/2.1.0/weights.bin', but the "
                              "uploaded weights.bin has " +
                              kWeightsDigest);
  Recipe r2 = Filled();
  EXPECT_FALSE(MapArtifactUris(&r2, {{"../x", {kAppDigest, 1}}}).ok());
  EXPECT_FALSE(MapArtifactUris(&r2, {{"app.zip", {"ABC", 1}}}).ok());
}

}  // namespace
}  // namespace vqi::component
