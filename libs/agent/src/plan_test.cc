#include "vqi/agent/plan.h"

#include <gtest/gtest.h>

namespace vqi::agent {
namespace {

// Recipes held in memory; no artifacts.
class FakeSource : public ArtifactSource {
 public:
  void Add(const std::string& json) {
    auto r = component::ParseRecipe(json, "fake");
    ASSERT_TRUE(r.ok()) << r.status().message();
    recipes.push_back(*r);
  }
  Result<component::Recipe> GetRecipe(std::string_view name, std::string_view version) override {
    for (const auto& r : recipes)
      if (r.name == name && r.version == version) return r;
    return NotFound("no " + std::string(name));
  }
  Result<std::vector<LocalArtifact>> GetArtifacts(const component::Recipe&,
                                                  const component::Manifest&) override {
    return std::vector<LocalArtifact>{};
  }
  std::vector<component::Recipe> recipes;
};

std::string Recipe(const std::string& name, const std::string& version, const std::string& deps,
                   const std::string& lifecycle, const std::string& defaults = "{}") {
  return R"({"RecipeFormatVersion": "2020-01-25", "ComponentName": ")" + name +
         R"(", "ComponentVersion": ")" + version + R"(", "ComponentDependencies": )" + deps +
         R"(, "ComponentConfiguration": {"DefaultConfiguration": )" + defaults +
         R"(}, "Manifests": [{"Lifecycle": )" + lifecycle + "}]}";
}

Deployment Deploy(std::map<std::string, std::string> versions) {
  Deployment d;
  d.id = "t";
  for (const auto& [n, v] : versions) d.components[n].version = v;
  return d;
}

TEST(ApplyConfigurationUpdate, ResetsThenMerges) {
  const Json defaults = {{"a", 1}, {"b", {{"c", 2}}}};
  const Json base = {{"a", 5}, {"b", {{"c", 9}}}, {"x", true}};
  ConfigurationUpdate u;
  u.reset = {"/a", "/x"};
  u.merge = Json{{"b", {{"d", 3}}}, {"n", nullptr}};
  auto out = ApplyConfigurationUpdate(defaults, base, u, "here");
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(*out, (Json{{"a", 1}, {"b", {{"c", 9}, {"d", 3}}}}));  // /x had no default: removed
  u.reset = {""};
  u.merge.reset();
  EXPECT_EQ(*ApplyConfigurationUpdate(defaults, base, u, "here"), defaults);
}

TEST(BuildPlan, OrdersDependenciesFirstAndFindsWhatChanged) {
  FakeSource src;
  src.Add(Recipe("m", "1.0.0", "{}", "{}"));
  src.Add(Recipe("m", "1.1.0", "{}", "{}"));
  src.Add(
      Recipe("hard", "1.0.0", R"({"m": {"VersionRequirement": "^1"}})", R"({"run": "sleep 1"})"));
  src.Add(Recipe("soft", "1.0.0",
                 R"({"m": {"VersionRequirement": "^1", "DependencyType": "SOFT"}})",
                 R"({"run": "sleep 1"})"));
  PlanOptions o;
  o.root = "/r";
  auto s1 = TargetSet(Deploy({{"m", "1.0.0"}, {"hard", "1.0.0"}, {"soft", "1.0.0"}}), {}, src);
  ASSERT_TRUE(s1.ok()) << s1.status().message();
  auto p1 = BuildPlan(*s1, o, nullptr);
  ASSERT_TRUE(p1.ok()) << p1.status().message();
  ASSERT_EQ(p1->components.size(), 3u);
  EXPECT_EQ(p1->components[0].name, "m");
  auto same = BuildPlan(*s1, o, &*p1);
  for (const auto& c : same->components) EXPECT_FALSE(c.changed) << c.name;
  auto s2 = TargetSet(Deploy({{"m", "1.1.0"}, {"hard", "1.0.0"}, {"soft", "1.0.0"}}), *s1, src);
  auto p2 = BuildPlan(*s2, o, &*p1);
  ASSERT_TRUE(p2.ok());
  EXPECT_TRUE(p2->Find("m")->changed);
  EXPECT_TRUE(p2->Find("hard")->changed);   // a HARD dependency changed: restarted
  EXPECT_FALSE(p2->Find("soft")->changed);  // SOFT: left running
  auto s3 = TargetSet(Deploy({{"m", "1.1.0"}}), *s2, src);
  auto p3 = BuildPlan(*s3, o, &*p2);
  EXPECT_EQ(p3->removed, (std::vector<std::string>{"hard", "soft"}));
}

TEST(BuildPlan, RefusesPrivilegeWhenNotRootAndBootstrap) {
  FakeSource src;
  src.Add(Recipe("p", "1.0.0", "{}",
                 R"({"install": {"Script": "x", "RequiresPrivilege": true}, "run": "sleep 1"})"));
  src.Add(Recipe("b", "1.0.0", "{}", R"({"bootstrap": "x"})"));
  PlanOptions o;
  o.root = "/r";
  o.is_root = false;
  auto set = TargetSet(Deploy({{"p", "1.0.0"}}), {}, src);
  auto p = BuildPlan(*set, o, nullptr);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(p.status().message().find("p 1.0.0: Lifecycle.install.RequiresPrivilege is true"),
            std::string::npos)
      << p.status().message();
  o.is_root = true;
  EXPECT_TRUE(BuildPlan(*set, o, nullptr).ok());
  auto bset = TargetSet(Deploy({{"b", "1.0.0"}}), {}, src);
  auto b = BuildPlan(*bset, o, nullptr);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("bootstrap is not supported"), std::string::npos);
}

TEST(TargetSet, KeepsRunningConfigurationAcrossVersions) {
  FakeSource src;
  src.Add(Recipe("c", "1.0.0", "{}", "{}", R"({"a": 1})"));
  src.Add(Recipe("c", "2.0.0", "{}", "{}", R"({"a": 1, "new": 2})"));
  Deployment d = Deploy({{"c", "1.0.0"}});
  d.components["c"].update.merge = Json{{"a", 7}};
  auto s1 = TargetSet(d, {}, src);
  ASSERT_TRUE(s1.ok());
  EXPECT_EQ(s1->at("c").configuration, (Json{{"a", 7}}));
  auto s2 = TargetSet(Deploy({{"c", "2.0.0"}}), *s1, src);
  EXPECT_EQ(s2->at("c").configuration, (Json{{"a", 7}, {"new", 2}}));
}

// Greengrass: a value that came from the previous version's defaults follows the new version's
// defaults (a model component's metadata); a value a deployment set persists; a value reset
// to the default follows too.
TEST(TargetSet, DefaultValuesFollowTheNewVersionDeploymentValuesPersist) {
  FakeSource src;
  src.Add(Recipe("c", "1.0.0", "{}", "{}",
                 R"({"model": {"version": 1, "group": "g"}, "threshold": 0.5, "list": [1]})"));
  src.Add(Recipe("c", "1.1.0", "{}", "{}",
                 R"({"model": {"version": 2, "group": "g"}, "threshold": 0.5, "list": [2]})"));
  Deployment d = Deploy({{"c", "1.0.0"}});
  d.components["c"].update.merge = Json{{"threshold", 0.7}};
  auto s1 = TargetSet(d, {}, src);
  ASSERT_TRUE(s1.ok());
  auto s2 = TargetSet(Deploy({{"c", "1.1.0"}}), *s1, src);
  ASSERT_TRUE(s2.ok());
  EXPECT_EQ(
      s2->at("c").configuration,
      Json::parse(R"({"model": {"version": 2, "group": "g"}, "threshold": 0.7, "list": [2]})"));
  // The same version again keeps everything.
  auto s3 = TargetSet(Deploy({{"c", "1.1.0"}}), *s2, src);
  ASSERT_TRUE(s3.ok());
  EXPECT_EQ(s3->at("c").configuration, s2->at("c").configuration);
  // Back to 1.0.0 (a rollback plans the same way): its defaults, the deployment's value.
  auto s4 = TargetSet(Deploy({{"c", "1.0.0"}}), *s3, src);
  ASSERT_TRUE(s4.ok());
  EXPECT_EQ(s4->at("c").configuration["model"]["version"], 1);
  EXPECT_EQ(s4->at("c").configuration["threshold"], 0.7);
}

}  // namespace
}  // namespace vqi::agent
