// from-model: an approved registry model becomes the next model component, once.
#include <filesystem>

#include "gtest/gtest.h"
#include "package_env_fixture.h"
#include "vqi/base/file.h"
#include "vqi/base/hash.h"
#include "vqi/component/package.h"

namespace vqi::component {
namespace {

class PackageModelTest : public PackageEnvTest {
 protected:
  // A registry version whose artifacts are stored blobs.
  ModelToPackage Model(int64_t version, bool int8) {
    ModelToPackage m;
    m.group = "tags";
    m.version = version;
    m.metrics = Json{{"map50", 0.894}, {"map50_95", 0.567}, {"per_class", Json::array({1, 2})}};
    std::vector<std::pair<std::string, std::string>> files = {
        {"model.onnx", "fp32 of " + std::to_string(version)}, {"best.safetensors", "checkpoint"}};
    if (int8) files.push_back({"model.int8.onnx", "int8 of " + std::to_string(version)});
    for (const auto& [name, bytes] : files) {
      auto put = blobs_->Put(bytes);
      EXPECT_TRUE(put.ok());
      m.artifacts.push_back({name, "", put->digest, put->size, "NONE"});
    }
    return m;
  }

  Status Verify(const std::string& version) {
    return VerifyComponent(*store_, *blobs_, "vqi.model.tags", version, *keys_.Trusted());
  }
};

TEST_F(PackageModelTest, FirstVersionThenIdempotentThenPatchBump) {
  auto first = PackageModel(env_, Model(3, false), "acme", "Acme");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->created);
  EXPECT_EQ(first->component.name, "vqi.model.tags");
  EXPECT_EQ(first->component.version, "1.0.0");
  EXPECT_EQ(first->component.source, "registry:tags/3");
  ASSERT_EQ(first->component.artifacts.size(), 1u);  // no checkpoint, no int8
  EXPECT_EQ(first->component.artifacts[0].name, "model.onnx");
  auto recipe = ParseJson(first->component.recipe_json);
  ASSERT_TRUE(recipe.ok());
  const Json& model = (*recipe)["ComponentConfiguration"]["DefaultConfiguration"]["model"];
  EXPECT_EQ(model["group"], "tags");
  EXPECT_EQ(model["version"], 3);
  EXPECT_EQ(model["metrics"]["map50"], 0.894);
  EXPECT_FALSE(model["metrics"].contains("per_class"));
  EXPECT_TRUE(Verify("1.0.0").ok());

  auto again = PackageModel(env_, Model(3, false), "acme", "Acme");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->component.version, "1.0.0");
  EXPECT_EQ(store_->Versions("vqi.model.tags")->size(), 1u);

  auto next = PackageModel(env_, Model(4, true), "acme", "Acme");
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_TRUE(next->created);
  EXPECT_EQ(next->component.version, "1.0.1");
  ASSERT_EQ(next->component.artifacts.size(), 2u);
  EXPECT_EQ(next->component.artifacts[1].name, "model.onnx");
  EXPECT_EQ(next->component.artifacts[0].name, "model.int8.onnx");
  recipe = ParseJson(next->component.recipe_json);
  const std::string script = (*recipe)["Manifests"][0]["Lifecycle"]["install"]["Script"];
  EXPECT_NE(script.find("{artifacts:path}/model.int8.onnx"), std::string::npos) << script;
  EXPECT_NE(script.find("{work:path}/model/"), std::string::npos) << script;
  EXPECT_TRUE(Verify("1.0.1").ok());
}

TEST_F(PackageModelTest, RefusesModelsItCannotPackage) {
  ModelToPackage no_onnx = Model(1, false);
  no_onnx.artifacts.erase(no_onnx.artifacts.begin());
  auto r = PackageModel(env_, no_onnx, "acme", "Acme");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("has no model.onnx artifact"), std::string::npos);

  ModelToPackage gone = Model(2, false);
  ASSERT_TRUE(*blobs_->Remove(gone.artifacts[0].digest));
  r = PackageModel(env_, gone, "acme", "Acme");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find("artifact model.onnx"), std::string::npos);

  r = PackageModel(env_, Model(3, false), "nobody", "Acme");
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Versions("vqi.model.tags").status().code(), StatusCode::kNotFound);
}

// stats.json travels with the model: stored, named in the recipe, covered by the signature;
// computed only when a version is created; a different given file makes a new version.
TEST_F(PackageModelTest, PackagesDriftStatisticsSigned) {
  const std::string stats = home_ + "/stats.json";
  ASSERT_TRUE(WriteFileAtomic(stats, R"({"schema":"vqi.inspect.stats/1","features":[]})").ok());
  int computed = 0;
  ModelToPackage m = Model(5, false);
  m.compute_stats = [&]() -> Result<std::string> {
    ++computed;
    return stats;
  };
  auto first = PackageModel(env_, m, "acme", "Acme");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(computed, 1);
  ASSERT_EQ(first->component.artifacts.size(), 2u);
  const StoredArtifact* art = nullptr;
  for (const StoredArtifact& a : first->component.artifacts)
    if (a.name == "stats.json") art = &a;
  ASSERT_NE(art, nullptr);
  EXPECT_EQ(art->digest, *Sha256File(stats));
  EXPECT_EQ(*blobs_->Get(art->digest), *ReadFile(stats));
  auto recipe = ParseJson(first->component.recipe_json);
  ASSERT_TRUE(recipe.ok());
  EXPECT_EQ((*recipe)["ComponentConfiguration"]["DefaultConfiguration"]["model"]["files"]["stats"],
            "stats.json");
  const std::string script = (*recipe)["Manifests"][0]["Lifecycle"]["install"]["Script"];
  EXPECT_NE(script.find("{artifacts:path}/stats.json"), std::string::npos) << script;
  EXPECT_TRUE(Verify("1.0.0").ok());
  // The signature covers it: a flipped byte in its blob fails verification naming it.
  const std::string path = *blobs_->Path(art->digest);
  std::filesystem::permissions(path, std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::add);
  ASSERT_TRUE(WriteFileAtomic(path, R"({"schema":"vqi.inspect.stats/1","features":[1]})").ok());
  Status bad = Verify("1.0.0");
  EXPECT_EQ(bad.code(), StatusCode::kDataLoss) << bad.ToString();
  EXPECT_NE(bad.message().find("artifact stats.json"), std::string::npos) << bad.ToString();
  ASSERT_TRUE(blobs_->PutFile(stats).ok());  // repaired (rewritten from the good bytes)
  EXPECT_TRUE(Verify("1.0.0").ok());

  // Up to date: not computed again.
  auto again = PackageModel(env_, m, "acme", "Acme");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->created);
  EXPECT_EQ(computed, 1);
  // The same file given explicitly: still up to date; another file: a new version.
  ModelToPackage given = Model(5, false);
  given.stats_file = stats;
  EXPECT_FALSE(PackageModel(env_, given, "acme", "Acme")->created);
  ASSERT_TRUE(WriteFileAtomic(stats, R"({"schema":"vqi.inspect.stats/1","features":[2]})").ok());
  auto next = PackageModel(env_, given, "acme", "Acme");
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_TRUE(next->created);
  EXPECT_EQ(next->component.version, "1.0.1");
  EXPECT_TRUE(Verify("1.0.1").ok());

  // A computation that fails stores nothing; one that returns "" packages without.
  ModelToPackage failing = Model(6, false);
  failing.compute_stats = []() -> Result<std::string> { return Unavailable("no images"); };
  EXPECT_EQ(PackageModel(env_, failing, "acme", "Acme").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store_->Versions("vqi.model.tags")->size(), 2u);
  ModelToPackage none = Model(6, false);
  none.compute_stats = []() -> Result<std::string> { return std::string(); };
  auto without = PackageModel(env_, none, "acme", "Acme");
  ASSERT_TRUE(without.ok()) << without.status().ToString();
  EXPECT_EQ(without->component.artifacts.size(), 1u);
}

TEST(NextPatchVersionTest, Bumps) {
  EXPECT_EQ(*NextPatchVersion("1.0.0"), "1.0.1");
  EXPECT_EQ(*NextPatchVersion("2.7.19"), "2.7.20");
  EXPECT_EQ(*NextPatchVersion("1.0.1-rc.1"), "1.0.1");
  EXPECT_EQ(*NextPatchVersion("1.0.1+build.5"), "1.0.2");
  for (const char* bad : {"", "1.0", "v1.0.0", "1.0.0.0", "-1.0.0", "1.0.0x"})
    EXPECT_FALSE(NextPatchVersion(bad).ok()) << bad;
}

}  // namespace
}  // namespace vqi::component
