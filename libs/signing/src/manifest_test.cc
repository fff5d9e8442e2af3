#include "vqi/signing/manifest.h"

#include <cmath>

#include "gtest/gtest.h"

namespace vqi::signing {
namespace {

const std::string kDigestA(64, 'a');
const std::string kDigestB(64, 'b');

Manifest Sample() {
  Manifest m;
  m.component = "vqi.model.tags";
  m.version = "1.0.3";
  m.publisher = "Acme";
  m.key_id = "0123456789abcdef";
  m.recipe = Json{{"ComponentName", "vqi.model.tags"}, {"ComponentVersion", "1.0.3"}};
  m.artifacts = {{"model.onnx", "s3://b/model.onnx", kDigestA, 12, "NONE"},
                 {"labels.zip", "s3://b/labels.zip", kDigestB, 3, "ZIP"}};
  return m;
}

// The documented format (docs/design/signing.md): keys sorted at every level, artifacts sorted
// by name, no whitespace.
TEST(ManifestTest, CanonicalBytesFollowTheDocumentedFormat) {
  auto bytes = CanonicalManifest(Sample());
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  EXPECT_EQ(
      *bytes,
      R"({"artifacts":[{"digest":")" + kDigestB +
          R"(","name":"labels.zip","size":3,"unarchive":"ZIP","uri":"s3://b/labels.zip"},)"
          R"({"digest":")" +
          kDigestA +
          R"(","name":"model.onnx","size":12,"unarchive":"NONE","uri":"s3://b/model.onnx"}],)"
          R"("component":"vqi.model.tags","format":"vqi-manifest/1","key_id":"0123456789abcdef",)"
          R"("publisher":"Acme","recipe":{"ComponentName":"vqi.model.tags","ComponentVersion":"1.0.3"},)"
          R"("version":"1.0.3"})");
}

TEST(ManifestTest, OrderOfArtifactsAndRecipeKeysDoesNotMatter) {
  Manifest a = Sample();
  Manifest b = Sample();
  std::swap(b.artifacts[0], b.artifacts[1]);
  auto parsed = ParseJson(R"({"ComponentVersion":"1.0.3", "ComponentName":"vqi.model.tags"})");
  ASSERT_TRUE(parsed.ok());
  b.recipe = *parsed;
  EXPECT_EQ(*CanonicalManifest(a), *CanonicalManifest(b));
  b.recipe["ComponentVersion"] = "1.0.4";
  EXPECT_NE(*CanonicalManifest(a), *CanonicalManifest(b));
}

TEST(ManifestTest, ParseGivesTheSameManifestBack) {
  Manifest m = Sample();
  m.recipe["Float"] = 0.1;
  m.recipe["Text"] = "tab\t\"quote\" é \x01";
  auto bytes = CanonicalManifest(m);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto back = ParseManifest(*bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->component, m.component);
  EXPECT_EQ(back->recipe, m.recipe);
  EXPECT_EQ(*CanonicalManifest(*back), *bytes);
}

TEST(ManifestTest, ParseRefusesOtherFormatsAndNonCanonicalBytes) {
  auto bytes = CanonicalManifest(Sample());
  ASSERT_TRUE(bytes.ok());
  Json j = *ParseJson(*bytes);
  auto spaced = ParseManifest(j.dump(1));
  ASSERT_FALSE(spaced.ok());
  EXPECT_NE(spaced.status().message().find("not in canonical form"), std::string::npos);
  j["format"] = "vqi-manifest/2";
  auto other = ParseManifest(j.dump());
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("manifest.format: 'vqi-manifest/2'"), std::string::npos);
  j["format"] = "vqi-manifest/1";
  j["extra"] = 1;
  EXPECT_FALSE(ParseManifest(j.dump()).ok());
}

TEST(ManifestTest, BadFieldsAreNamed) {
  struct Case {
    std::function<void(Manifest&)> edit;
    std::string expect;
  };
  const std::vector<Case> cases = {
      {[](Manifest& m) { m.component = ""; }, "manifest.component: empty"},
      {[](Manifest& m) { m.version = ""; }, "manifest.version: empty"},
      {[](Manifest& m) { m.key_id = "XYZ"; }, "manifest.key_id"},
      {[](Manifest& m) { m.artifacts[1].name = "model.onnx"; },
       "manifest.artifacts[1].name: 'model.onnx' appears twice"},
      {[](Manifest& m) { m.artifacts[0].name = "../etc/passwd"; }, "manifest.artifacts[0].name"},
      {[](Manifest& m) { m.artifacts[0].name = ".."; }, "is not a file name"},
      {[](Manifest& m) { m.artifacts[0].digest = std::string(64, 'A'); },
       "manifest.artifacts[0].digest"},
      {[](Manifest& m) { m.artifacts[0].size = -1; }, "manifest.artifacts[0].size: negative"},
      {[](Manifest& m) { m.artifacts[0].unarchive = "TAR"; }, "(accepted: NONE, ZIP)"},
      {[](Manifest& m) { m.recipe = Json::array(); }, "manifest.recipe: not a JSON object"},
      {[](Manifest& m) { m.recipe["x"] = std::string("\xff\xfe"); }, "cannot be written as JSON"},
      {[](Manifest& m) { m.recipe["x"] = std::nan(""); }, "non-finite"},
  };
  for (const Case& c : cases) {
    Manifest m = Sample();
    c.edit(m);
    auto r = CanonicalManifest(m);
    ASSERT_FALSE(r.ok()) << c.expect;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace vqi::signing
