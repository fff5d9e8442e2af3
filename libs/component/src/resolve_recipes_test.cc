// Acceptance 2 (resolution half): the shipped AWS-sample-style inference recipe and the model
// recipe resolve together, AWS public components through the agent's table; recipe fields are
// checked by the semver parsers.
#include "vqi/component/resolve_recipes.h"

#include <gtest/gtest.h>

#include "vqi/base/file.h"
#include "vqi/component/placeholders.h"

namespace vqi::component {
namespace {

Recipe Load(const std::string& file, const std::string& version) {
  auto text = ReadFile(std::string(VQI_SOURCE_DIR) + "/components/recipes/" + file);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  auto filled = FillPlaceholders(text.ok() ? *text : "",
                                 {{"COMPONENT_VERSION", version}, {"BUCKET_NAME", "vqi-build"}});
  EXPECT_TRUE(filled.ok()) << filled.status().ToString();
  auto recipe = ParseRecipe(filled.ok() ? *filled : "", file);
  EXPECT_TRUE(recipe.ok()) << recipe.status().ToString();
  return recipe.ok() ? *recipe : Recipe{};
}

std::string Installed(const Resolution& r) {
  std::string out;
  for (const ResolvedComponent& c : r.components) {
    out += (out.empty() ? "" : ", ") + c.name + " " + c.version.ToString();
  }
  return out;
}

std::vector<Recipe> Shipped() {
  return {Load("inference.yaml", "1.0.0"), Load("model.json", "0.0.1"), Load("model.json", "0.3.1"),
          Load("model.json", "1.0.0-rc.1")};
}

TEST(ResolveRecipesTest, ShippedRecipesResolveWithStreamManagerProvidedByTheAgent) {
  auto r = Resolve(Shipped(), {{"com.example.Inference", "1.0.0", "deployment thing-7"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // >=0.0.1 picks the highest release; the release candidate is not admitted.
  EXPECT_EQ(Installed(*r), "com.example.Model 0.3.1, com.example.Inference 1.0.0");
  EXPECT_EQ(r->components[0].required_by[0].requirer, "com.example.Inference 1.0.0");
  EXPECT_EQ(r->components[0].required_by[0].range, ">=0.0.1");
  ASSERT_EQ(r->provided.size(), 1u);
  EXPECT_EQ(r->provided[0].name, "aws.greengrass.StreamManager");
  EXPECT_NE(r->provided[0].detail.find("spool"), std::string::npos) << r->provided[0].detail;
}

TEST(ResolveRecipesTest, AGroupPinningTheModelIsHonouredAndAConflictNamesBoth) {
  auto r = Resolve(Shipped(), {{"com.example.Inference", "^1.0.0", "deployment thing-7"},
                               {"com.example.Model", "0.0.1", "deployment group:line-3"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Installed(*r), "com.example.Model 0.0.1, com.example.Inference 1.0.0");
  r = Resolve(Shipped(), {{"com.example.Inference", "^1.0.0", "deployment thing-7"},
                          {"com.example.Model", "<0.0.1", "deployment group:line-3"}});
  EXPECT_EQ(r.status().ToString(),
            "FailedPrecondition: com.example.Model: no version satisfies every requirement: "
            "deployment group:line-3 requires <0.0.1; com.example.Inference 1.0.0 requires "
            ">=0.0.1; available: 0.0.1, 0.3.1, 1.0.0-rc.1");
}

TEST(ResolveRecipesTest, ARefusedAwsComponentIsNamedWithWhy) {
  std::vector<Recipe> recipes = Shipped();
  recipes[0].dependencies["aws.greengrass.TokenExchangeService"] = {"^2.0.0",
                                                                    DependencyType::kHard};
  auto r = Resolve(recipes, {{"com.example.Inference", "1.0.0", "deployment thing-7"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("aws.greengrass.TokenExchangeService: not supported by "
                                      "vqi-agent: vqi issues no AWS credentials"),
            std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("com.example.Inference 1.0.0 requires ^2.0.0"),
            std::string::npos);
}

TEST(ResolveRecipesTest, CatalogueFindsTheRecipeOfAResolvedVersion) {
  RecipeCatalogue catalogue;
  for (const Recipe& recipe : Shipped()) ASSERT_TRUE(catalogue.Add(recipe).ok());
  Status again = catalogue.Add(Load("model.json", "0.3.1"));
  EXPECT_EQ(again.ToString(),
            "InvalidArgument: com.example.Model: version 0.3.1 is already in the catalogue (as "
            "0.3.1)");
  auto r = Resolve(catalogue, {{"com.example.Inference", "1.0.0", "d"}}, AwsPlatform());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Recipe* model = catalogue.Find("com.example.Model", r->components[0].version);
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->version, "0.3.1");
  EXPECT_EQ(catalogue.Find("com.example.Model", ParseVersion("9.9.9", "v").value()), nullptr);
}

TEST(ResolveRecipesTest, RecipeVersionAndRangeFieldsUseTheSemverParsers) {
  const std::string base =
      "RecipeFormatVersion: '2020-01-25'\n"
      "ComponentName: com.example.A\n"
      "ComponentVersion: 'VERSION'\n"
      "ComponentDependencies:\n"
      "  com.example.B:\n"
      "    VersionRequirement: 'RANGE'\n";
  auto parse = [&](const std::string& version, const std::string& range) {
    std::string text = base;
    text.replace(text.find("VERSION"), 7, version);
    text.replace(text.find("RANGE"), 5, range);
    auto r = ParseRecipe(text, "a.yaml");
    return r.ok() ? std::string("ok") : r.status().message();
  };
  EXPECT_EQ(parse("1.0.0-rc.1+b.7", "^1.2 || 2.0.0 - 3"), "ok");
  EXPECT_EQ(parse("1.2", ">=1.0.0"),
            "a.yaml:3: ComponentVersion: '1.2' is not a semantic version (MAJOR.MINOR.PATCH, "
            "e.g. 1.2.0)");
  EXPECT_EQ(parse("1.02.0", ">=1.0.0"),
            "a.yaml:3: ComponentVersion: '1.02.0' is not a semantic version (MAJOR.MINOR.PATCH, "
            "e.g. 1.2.0): MINOR '02' has a leading zero");
  EXPECT_NE(parse("NEXT_VERSION", ">=1.0.0").find("placeholders such as COMPONENT_VERSION"),
            std::string::npos);
  EXPECT_EQ(parse("1.0.0", ">=1.x.0"),
            "a.yaml:6: ComponentDependencies.com.example.B.VersionRequirement: range '>=1.x.0': "
            "'>=1.x.0': a number after a wildcard ('0')");
}

}  // namespace
}  // namespace vqi::component
