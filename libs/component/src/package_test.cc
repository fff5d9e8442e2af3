// Acceptance 3 of issue 18 through the store: tampering with what is stored is refused,
// naming what failed.
#include "vqi/component/package.h"

#include <zip.h>

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "vqi/base/file.h"
#include "vqi/base/hash.h"
#include "vqi/sqlite/sqlite.h"

namespace vqi::component {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRecipe = R"({
  "RecipeFormatVersion": "2020-01-25",
  "ComponentName": "com.acme.inspect",
  "ComponentVersion": "COMPONENT_VERSION",
  "ComponentPublisher": "Acme",
  "Manifests": [{
    "Platform": {"os": "linux"},
    "Lifecycle": {"run": "python3 {artifacts:path}/run.py"},
    "Artifacts": [
      {"Uri": "s3://BUCKET_NAME/com.acme.inspect/COMPONENT_VERSION/model.onnx"},
      {"Uri": "s3://BUCKET_NAME/com.acme.inspect/COMPONENT_VERSION/run.py"}
    ]
  }]
})";

class PackageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (fs::temp_directory_path() / "vqi-package-XXXXXX").string();
    ASSERT_NE(::mkdtemp(t.data()), nullptr);
    home_ = t;
    keys_ = signing::KeyStore(home_);
    ASSERT_TRUE(keys_.Create("acme").ok());
    auto s = OpenSqliteStore(ComponentsDbPath(home_));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    blob::BlobStoreOptions o;
    o.max_blob_bytes = kMaxArtifactBytes;
    o.durability = blob::Durability::kBatch;
    auto b = blob::BlobStore::Open(ArtifactsDir(home_), o);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    blobs_ = std::move(*b);
    env_ = {store_.get(), blobs_.get(), &keys_};
    Write("in/recipe.json", kRecipe);
    Write("in/model.onnx", std::string(4096, 'm'));
    Write("in/run.py", "print('inspect')\n");
    request_.recipe_file = home_ + "/in/recipe.json";
    request_.artifact_files = {home_ + "/in/model.onnx", home_ + "/in/run.py"};
    request_.vars = {{"COMPONENT_VERSION", "1.0.0"}, {"BUCKET_NAME", "acme-artifacts"}};
    request_.key_name = "acme";
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(home_, ec);
  }

  void Write(const std::string& rel, const std::string& data) {
    ASSERT_TRUE(WriteFileAtomic(home_ + "/" + rel, data).ok());
  }

  Status VerifyNow(const std::string& version = "1.0.0") {
    auto trusted = keys_.Trusted();
    if (!trusted.ok()) return trusted.status();
    return VerifyComponent(*store_, *blobs_, "com.acme.inspect", version, *trusted);
  }

  // Runs SQL on the database behind the store's back (what an attacker with file access does).
  void Tamper(const std::string& sql) {
    auto db = sqlite::Db::Open(ComponentsDbPath(home_));
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    ASSERT_TRUE(db->Exec(sql).ok());
  }

  std::string home_;
  signing::KeyStore keys_{"/nonexistent"};
  std::unique_ptr<Store> store_;
  std::unique_ptr<blob::BlobStore> blobs_;
  PackageEnv env_;
  CreateRequest request_;
};

TEST_F(PackageTest, CreateFillsSignsStoresAndVerifies) {
  auto c = CreateComponent(env_, request_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->component.version, "1.0.0");
  EXPECT_EQ(c->component.publisher, "Acme");
  EXPECT_EQ(c->component.key_id, keys_.Public("acme")->key_id);
  ASSERT_EQ(c->component.artifacts.size(), 2u);
  EXPECT_EQ(c->component.artifacts[0].name, "model.onnx");
  EXPECT_EQ(c->component.artifacts[0].digest, Sha256Hex(std::string(4096, 'm')));
  EXPECT_EQ(c->component.artifacts[0].uri,
            "vqi://artifacts/" + c->component.artifacts[0].digest + "/model.onnx");
  EXPECT_TRUE(*blobs_->Exists(c->component.artifacts[0].digest));
  auto recipe = ParseJson(c->component.recipe_json);
  ASSERT_TRUE(recipe.ok());
  EXPECT_EQ((*recipe)["Manifests"][0]["Artifacts"][0]["Algorithm"], "SHA-256");
  EXPECT_EQ((*recipe)["Manifests"][0]["Artifacts"][0]["Digest"], c->component.artifacts[0].digest);
  EXPECT_EQ((*recipe)["Manifests"][0]["Artifacts"][0]["Uri"], c->component.artifacts[0].uri);
  EXPECT_EQ(c->component.recipe_text, kRecipe);  // as written

  Status st = VerifyNow();
  EXPECT_TRUE(st.ok()) << st.ToString();
  auto refs = store_->ReferencedDigests();
  ASSERT_TRUE(refs.ok());
  EXPECT_EQ(refs->size(), 2u);
}

TEST_F(PackageTest, FlippedByteInTheStoredBlobNamesTheArtifact) {
  auto c = CreateComponent(env_, request_);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const std::string digest = c->component.artifacts[0].digest;
  const std::string path = *blobs_->Path(digest);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    f.put('x');
  }
  std::string bytes(4096, 'm');
  bytes[100] = 'x';
  Status st = VerifyNow();
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_EQ(st.message(),
            "component com.acme.inspect@1.0.0: artifact model.onnx: content hashes to " +
                Sha256Hex(bytes) + ", manifest says " + digest);
}

TEST_F(PackageTest, MissingBlobIsNamed) {
  auto c = CreateComponent(env_, request_);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(fs::remove(*blobs_->Path(c->component.artifacts[1].digest)));
  Status st = VerifyNow();
  EXPECT_EQ(st.code(), StatusCode::kDataLoss);
  EXPECT_NE(st.message().find("artifact missing: run.py (blob " + c->component.artifacts[1].digest),
            std::string::npos)
      << st.message();
}

TEST_F(PackageTest, EditedRecipeRowIsRefused) {
  ASSERT_TRUE(CreateComponent(env_, request_).ok());
  Tamper("UPDATE components SET recipe_json = replace(recipe_json, 'python3 ', 'sh -c evil; ')");
  ASSERT_TRUE(ParseJson(store_->Get("com.acme.inspect", "1.0.0")->recipe_json).ok());
  ASSERT_NE(store_->Get("com.acme.inspect", "1.0.0")->recipe_json.find("evil"), std::string::npos);
  Status st = VerifyNow();
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(
      st.message().find("signature does not match the manifest (recipe or artifact list changed)"),
      std::string::npos)
      << st.message();
}

TEST_F(PackageTest, EditedArtifactRowIsRefused) {
  ASSERT_TRUE(CreateComponent(env_, request_).ok());
  // Point model.onnx at other stored content: the blob itself checks out, the list does not.
  auto other = blobs_->Put("other model");
  ASSERT_TRUE(other.ok());
  Tamper("UPDATE component_artifacts SET digest = '" + other->digest +
         "', size = " + std::to_string(other->size) + " WHERE artifact = 'model.onnx'");
  Status st = VerifyNow();
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(st.message().find("recipe or artifact list changed"), std::string::npos)
      << st.message();
}

TEST_F(PackageTest, WrongTrustedKeyIsRefused) {
  auto c = CreateComponent(env_, request_);
  ASSERT_TRUE(c.ok());
  // A device that trusts only some other publisher.
  signing::KeyStore other(home_ + "/other");
  auto info = other.Create("someone-else");
  ASSERT_TRUE(info.ok());
  auto trusted = other.Trusted();
  ASSERT_TRUE(trusted.ok());
  Status st = VerifyComponent(*store_, *blobs_, "com.acme.inspect", "1.0.0", *trusted);
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(st.message().find("signed by unknown key " + c->component.key_id +
                              " (trusted: " + info->key_id + " (someone-else))"),
            std::string::npos)
      << st.message();
}

TEST_F(PackageTest, RemovedSignatureIsRefused) {
  ASSERT_TRUE(CreateComponent(env_, request_).ok());
  Tamper("UPDATE components SET signature = x''");
  Status st = VerifyNow();
  EXPECT_EQ(st.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(st.message(),
            "component com.acme.inspect@1.0.0: unsigned: com.acme.inspect@1.0.0 has no signature");
}

TEST_F(PackageTest, SecondCreateIsIdempotentOrRefused) {
  auto first = CreateComponent(env_, request_);
  ASSERT_TRUE(first.ok());
  auto again = CreateComponent(env_, request_);  // the same inputs: the same signed bytes
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(first->created);
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->component.created, first->component.created);
  Write("in/model.onnx", "a different model");
  auto changed = CreateComponent(env_, request_);
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.status().code(), StatusCode::kAlreadyExists) << changed.status().ToString();
  EXPECT_TRUE(VerifyNow().ok());
  request_.vars["COMPONENT_VERSION"] = "1.0.1";
  auto next = CreateComponent(env_, request_);
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_TRUE(VerifyNow("1.0.1").ok());
}

TEST_F(PackageTest, ArtifactFilesMustMatchTheRecipe) {
  request_.artifact_files = {home_ + "/in/model.onnx"};
  auto missing = CreateComponent(env_, request_);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(
                "Manifests[0].Artifacts[1].Uri s3://acme-artifacts/com.acme.inspect/1.0.0/run.py: "
                "no --artifact file named 'run.py'"),
            std::string::npos)
      << missing.status().message();
  Write("in/extra.bin", "x");
  request_.artifact_files = {home_ + "/in/model.onnx", home_ + "/in/run.py",
                             home_ + "/in/extra.bin"};
  auto extra = CreateComponent(env_, request_);
  ASSERT_FALSE(extra.ok());
  EXPECT_NE(extra.status().message().find("the recipe names no artifact 'extra.bin'"),
            std::string::npos)
      << extra.status().message();
  Write(
      "in/traversal.json",
      R"({"ComponentName":"c","ComponentVersion":"1.0.0","Manifests":[{"Artifacts":[{"Uri":"s3://b/.."}]}]})");
  request_.recipe_file = home_ + "/in/traversal.json";
  auto traversal = CreateComponent(env_, request_);
  ASSERT_FALSE(traversal.ok());
  EXPECT_EQ(traversal.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(store_->List("")->empty());
  EXPECT_TRUE(store_->ReferencedDigests()->empty());
}

TEST_F(PackageTest, UnknownOrExposedKeyStoresNothing) {
  request_.key_name = "nobody";
  auto r = CreateComponent(env_, request_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  request_.key_name = "acme";
  ASSERT_EQ(::chmod((home_ + "/keys/acme.key").c_str(), 0644), 0);
  r = CreateComponent(env_, request_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(store_->List("")->empty());
  EXPECT_FALSE(*blobs_->Exists(Sha256Hex(std::string(4096, 'm'))));
}

}  // namespace
}  // namespace vqi::component

namespace vqi::component {
namespace {

// The recipes the recipe helper ships (components/recipes/): they package unchanged.
class ShippedRecipeTest : public PackageTest {
 protected:
  std::string Zip(const std::string& rel,
                  const std::vector<std::pair<std::string, std::string>>& entries) {
    const std::string path = home_ + "/" + rel;
    int err = 0;
    zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
    EXPECT_NE(z, nullptr);
    for (const auto& [name, data] : entries) {
      zip_source_t* src = zip_source_buffer(z, data.data(), data.size(), 0);
      EXPECT_GE(zip_file_add(z, name.c_str(), src, ZIP_FL_ENC_UTF_8), 0) << zip_strerror(z);
    }
    EXPECT_EQ(zip_close(z), 0);
    return path;
  }
};

TEST_F(ShippedRecipeTest, ModelAndInferenceRecipesPackage) {
  const std::string recipes = std::string(VQI_SOURCE_DIR) + "/components/recipes/";
  Write("in/model.int8.onnx", "int8");
  CreateRequest model = request_;
  model.recipe_file = recipes + "model.json";
  model.artifact_files = {home_ + "/in/model.onnx", home_ + "/in/model.int8.onnx"};
  model.vars = {{"COMPONENT_VERSION", "1.0.0"}, {"BUCKET_NAME", "b"}};
  auto m = CreateComponent(env_, model);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->component.name, "com.example.Model");
  EXPECT_EQ(m->component.artifacts.size(), 2u);

  CreateRequest inference = request_;
  inference.recipe_file = recipes + "inference.yaml";
  inference.artifact_files = {Zip("in/inference.zip", {{"inference/inference.py", "print(1)\n"},
                                                       {"inference/requirements.txt", "\n"}})};
  inference.vars = {{"COMPONENT_VERSION", "1.0.0"}, {"BUCKET_NAME", "b"}};
  auto i = CreateComponent(env_, inference);
  ASSERT_TRUE(i.ok()) << i.status().ToString();
  ASSERT_EQ(i->component.artifacts.size(), 1u);
  EXPECT_EQ(i->component.artifacts[0].unarchive, "ZIP");
  auto trusted = keys_.Trusted();
  ASSERT_TRUE(trusted.ok());
  EXPECT_TRUE(VerifyComponent(*store_, *blobs_, "com.example.Inference", "1.0.0", *trusted).ok());
  EXPECT_TRUE(VerifyComponent(*store_, *blobs_, "com.example.Model", "1.0.0", *trusted).ok());
}

TEST_F(ShippedRecipeTest, HostileZipIsRefusedBeforeAnythingIsStored) {
  CreateRequest inference = request_;
  inference.recipe_file = std::string(VQI_SOURCE_DIR) + "/components/recipes/inference.yaml";
  inference.artifact_files = {Zip("in/inference.zip", {{"../../etc/cron.d/evil", "x"}})};
  auto r = CreateComponent(env_, inference);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("Manifests[0].Artifacts[0] (Unarchive: ZIP)"),
            std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("../../etc/cron.d/evil"), std::string::npos)
      << r.status().message();
  EXPECT_TRUE(store_->List("")->empty());
  EXPECT_TRUE(blobs_->Verify()->blobs == 0);
}

}  // namespace
}  // namespace vqi::component
