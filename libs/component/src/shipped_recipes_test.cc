// Acceptance 2: the shipped AWS-sample-style inference recipe (YAML) and the model recipe
// (JSON) load, fill their placeholders, map their s3:// URIs, pick a manifest and interpolate
// to exact strings.
#include <gtest/gtest.h>

#include "vqi/base/file.h"
#include "vqi/component/artifacts.h"
#include "vqi/component/aws_components.h"
#include "vqi/component/interpolate.h"
#include "vqi/component/placeholders.h"
#include "vqi/component/platform.h"
#include "vqi/component/resolve_recipes.h"

namespace vqi::component {
namespace {

const std::string kRoot = "/var/lib/vqi-agent";
const std::string kZipDigest(64, '1');
const std::string kOnnxDigest(64, '2');
const std::string kInt8Digest(64, '3');

Recipe Load(const std::string& file, const std::string& version,
            const std::map<std::string, UploadedArtifact>& uploads) {
  auto text = ReadFile(std::string(VQI_SOURCE_DIR) + "/components/recipes/" + file);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  auto filled = FillPlaceholders(text.ok() ? *text : "",
                                 {{"COMPONENT_VERSION", version}, {"BUCKET_NAME", "vqi-build"}});
  EXPECT_TRUE(filled.ok()) << filled.status().ToString();
  auto recipe = ParseRecipe(filled.ok() ? *filled : "", file);
  EXPECT_TRUE(recipe.ok()) << recipe.status().ToString();
  if (!recipe.ok()) return {};
  const Status mapped = MapArtifactUris(&*recipe, uploads);
  EXPECT_TRUE(mapped.ok()) << mapped.ToString();
  return *recipe;
}

Recipe Inference() {
  return Load("inference.yaml", "1.0.0", {{"inference.zip", {kZipDigest, 4096}}});
}
Recipe Model() {
  return Load(
      "model.json", "0.3.1",
      {{"model.onnx", {kOnnxDigest, 12'000'000}}, {"model.int8.onnx", {kInt8Digest, 3'000'000}}});
}

InterpolationContext ContextFor(const Recipe& r, const Recipe& model) {
  InterpolationContext c;
  c.component_name = r.name;
  c.kernel_root_path = kRoot;
  c.thing_name = "line-3-camera";
  c.self = GreengrassLayout(kRoot, r.name, r.version);
  c.self.configuration = r.default_configuration;
  if (r.dependencies.count(model.name)) {
    c.dependencies[model.name] = GreengrassLayout(kRoot, model.name, model.version);
    c.dependencies[model.name].configuration = model.default_configuration;
  }
  return c;
}

TEST(ShippedRecipesTest, InferenceRecipeLoadsLikeAwsWrites) {
  const Recipe r = Inference();
  EXPECT_EQ(r.name, "com.example.Inference");
  EXPECT_EQ(r.version, "1.0.0");
  const Dependency& model = r.dependencies.at("com.example.Model");
  EXPECT_EQ(model.version_requirement, ">=0.0.1");
  EXPECT_EQ(model.type, DependencyType::kHard);
  EXPECT_EQ(LookupAwsComponent("com.example.Model").support, AwsSupport::kNotAws);
  ASSERT_EQ(r.dependencies.count("aws.greengrass.StreamManager"), 1u);
  EXPECT_EQ(LookupAwsComponent("aws.greengrass.StreamManager").support, AwsSupport::kProvided);
  EXPECT_TRUE(r.default_configuration["accessControl"].contains("aws.greengrass.ipc.pubsub"));
  ASSERT_EQ(r.manifests.size(), 1u);
  const Artifact& zip = r.manifests[0].artifacts.at(0);
  EXPECT_EQ(zip.uri, "vqi://artifacts/" + kZipDigest + "/inference.zip");
  EXPECT_EQ(zip.digest, kZipDigest);
  EXPECT_EQ(zip.unarchive, Unarchive::kZip);
  EXPECT_EQ(zip.execute, Permission::kOwner);
  // `Install` and `run` are read as the install and run steps.
  const Lifecycle& l = *r.manifests[0].lifecycle;
  EXPECT_TRUE(l.steps.at("install").requires_privilege);
  EXPECT_EQ(l.steps.at("install").timeout_seconds, 900);
  EXPECT_EQ(l.steps.count("run"), 1u);
}

TEST(ShippedRecipesTest, InferenceRecipeResolvesWithTheModelAndAProvidedStreamManager) {
  const std::vector<Recipe> recipes = {
      Inference(), Model(),
      Load("model.json", "0.2.0",
           {{"model.onnx", {kOnnxDigest, 1}}, {"model.int8.onnx", {kInt8Digest, 1}}})};
  auto res = Resolve(recipes, {{"com.example.Inference", "^1.0.0", "deployment line-3"}});
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  ASSERT_EQ(res->components.size(), 2u);
  EXPECT_EQ(res->components[0].name, "com.example.Model");    // dependencies first
  EXPECT_EQ(res->components[0].version.ToString(), "0.3.1");  // the highest >=0.0.1
  EXPECT_EQ(res->components[1].name, "com.example.Inference");
  ASSERT_EQ(res->provided.size(), 1u);
  EXPECT_EQ(res->provided[0].name, "aws.greengrass.StreamManager");
  EXPECT_NE(res->provided[0].detail.find("spool"), std::string::npos);
}

TEST(ShippedRecipesTest, RefusedAwsDependencyFailsResolutionNamingIt) {
  auto text = ReadFile(std::string(VQI_SOURCE_DIR) + "/components/recipes/inference.yaml");
  ASSERT_TRUE(text.ok());
  std::string changed = *text;
  changed.replace(changed.find("aws.greengrass.StreamManager"), 28,
                  "aws.greengrass.TokenExchangeService");
  auto filled = FillPlaceholders(changed, {{"COMPONENT_VERSION", "1.0.0"}, {"BUCKET_NAME", "b"}});
  ASSERT_TRUE(filled.ok()) << filled.status().ToString();
  auto r = ParseRecipe(*filled, "inference.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto res = Resolve({*r, Model()}, {{"com.example.Inference", "1.0.0", "deployment line-3"}});
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.status().message().find("aws.greengrass.TokenExchangeService: not supported by "
                                        "vqi-agent: vqi issues no AWS credentials"),
            std::string::npos)
      << res.status().message();
}

TEST(ShippedRecipesTest, InferenceRecipeInterpolatesToExactStrings) {
  const Recipe r = Inference();
  const Recipe model = Model();
  auto m = SelectManifest(r, {{"os", "linux"}, {"architecture", "aarch64"}});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto l = InterpolateLifecycle(EffectiveLifecycle(r, *m), ContextFor(r, model),
                                "Manifests[0].Lifecycle");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  const std::string own = kRoot + "/packages/artifacts-unarchived/com.example.Inference/1.0.0";
  const std::string model_dir = kRoot + "/packages/artifacts/com.example.Model/0.3.1";
  EXPECT_EQ(l->setenv.at("INFERENCE_DIR"), own + "/inference");
  EXPECT_EQ(l->setenv.at("MODEL_DIR"), model_dir);
  EXPECT_EQ(l->setenv.at("RESULT_TOPIC"), "vqi/v1/results/com.example.Inference");
  EXPECT_EQ(l->steps.at("install").script, "python3 -m pip install --no-index --find-links " + own +
                                               "/inference/wheels -r " + own +
                                               "/inference/requirements.txt");
  EXPECT_EQ(l->steps.at("run").script,
            "python3 -u " + own + "/inference/inference.py --model " + model_dir +
                "/model.onnx --camera /srv/vqi/camera --threshold 0.25 --thing line-3-camera");
  // The ZIP unpacks where the scripts look for it.
  EXPECT_EQ(UnarchivedDir(GreengrassLayout(kRoot, r.name, r.version), "inference.zip"),
            own + "/inference");
}

TEST(ShippedRecipesTest, ModelRecipeInstallUpgradeUninstall) {
  const Recipe model = Model();
  EXPECT_EQ(model.name, "com.example.Model");
  EXPECT_EQ(model.version, "0.3.1");
  ASSERT_EQ(model.manifests[0].artifacts.size(), 2u);
  EXPECT_EQ(model.manifests[0].artifacts[0].uri, "vqi://artifacts/" + kOnnxDigest + "/model.onnx");
  EXPECT_EQ(model.manifests[0].artifacts[1].uri,
            "vqi://artifacts/" + kInt8Digest + "/model.int8.onnx");
  EXPECT_EQ(model.manifests[0].artifacts[1].read, Permission::kAll);
  auto m = SelectManifest(model, {{"os", "linux"}, {"architecture", "amd64"}});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto l = InterpolateLifecycle(EffectiveLifecycle(model, *m), ContextFor(model, model),
                                "Manifests[0].Lifecycle");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  const std::string art = kRoot + "/packages/artifacts/com.example.Model/0.3.1";
  const std::string work = kRoot + "/work/com.example.Model";
  EXPECT_EQ(
      l->steps.at("install").script,
      "set -e\nmkdir -p " + work + "\nprevious=$(cat " + work +
          "/installed 2>/dev/null || true)\nif [ -n \"$previous\" ] && [ \"$previous\" != \"" +
          art + "\" ]; then echo \"upgrading the model from $previous to " + art +
          "\"; fi\nln -sfn " + art + " " + work + "/current\necho " + art + " > " + work +
          "/installed");
  EXPECT_EQ(l->steps.at("shutdown").script, "if [ \"$(readlink " + work + "/current)\" = \"" + art +
                                                "\" ]; then rm -f " + work + "/current; fi");
}

TEST(ShippedRecipesTest, ShippedRecipesRefuseUnfilledPlaceholders) {
  auto text = ReadFile(std::string(VQI_SOURCE_DIR) + "/components/recipes/inference.yaml");
  ASSERT_TRUE(text.ok());
  auto filled = FillPlaceholders(*text, {{"BUCKET_NAME", "b"}});
  ASSERT_FALSE(filled.ok());
  EXPECT_EQ(filled.status().message(),
            "ComponentVersion: placeholder COMPONENT_VERSION is not filled; pass --var "
            "COMPONENT_VERSION=<value>");
  // Unfilled, the recipe itself is refused on its version.
  auto raw = ParseRecipe(*text, "inference.yaml");
  ASSERT_FALSE(raw.ok());
  EXPECT_NE(
      raw.status().message().find(
          "inference.yaml:9: ComponentVersion: 'COMPONENT_VERSION' is not a semantic version"),
      std::string::npos)
      << raw.status().message();
}

}  // namespace
}  // namespace vqi::component
