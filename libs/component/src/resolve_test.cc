#include "vqi/component/resolve.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace vqi::component {
namespace {

constexpr DependencyType kHard = DependencyType::kHard;
constexpr DependencyType kSoft = DependencyType::kSoft;

// A catalogue that counts lookups and can fail one name with a given error.
class TestCatalogue : public InMemoryCatalogue {
 public:
  void Put(const std::string& name, std::string_view version,
           std::vector<DependencySpec> deps = {}) {
    Status st = Add(name, version, std::move(deps));
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  Result<std::vector<CatalogueVersion>> Versions(std::string_view name) const override {
    ++lookups;
    if (name == failing) return Unavailable("store offline");
    return InMemoryCatalogue::Versions(name);
  }
  mutable int lookups = 0;
  std::string failing;
};

// "A 1.0.0, B 2.0.0" in install order.
std::string Installed(const Resolution& r) {
  std::string out;
  for (const ResolvedComponent& c : r.components) {
    out += (out.empty() ? "" : ", ") + c.name + " " + c.version.ToString();
  }
  return out;
}

std::string Error(const Result<Resolution>& r) {
  return r.ok() ? "resolved: " + Installed(*r) : r.status().ToString();
}

TEST(ResolveTest, PicksTheHighestVersionSatisfyingTheRoot) {
  TestCatalogue cat;
  for (auto v : {"1.0.0", "1.5.0", "2.0.0", "1.6.0-beta"}) cat.Put("Model", v);
  auto r = Resolve(cat, {{"Model", "^1.0.0", "deployment thing-7"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Installed(*r), "Model 1.5.0");  // the pre-release is not admitted by ^1.0.0
  ASSERT_EQ(r->components[0].required_by.size(), 1u);
  EXPECT_EQ(r->components[0].required_by[0].requirer, "deployment thing-7");
  EXPECT_EQ(r->components[0].required_by[0].range, "^1.0.0");
  // An exact pre-release is chosen when asked for.
  r = Resolve(cat, {{"Model", "1.6.0-beta", "deployment thing-7"}});
  EXPECT_EQ(Error(r), "resolved: Model 1.6.0-beta");
}

TEST(ResolveTest, DiamondSharesOneVersionInstalledBeforeItsDependents) {
  TestCatalogue cat;
  cat.Put("App", "1.0.0", {{"B", "^1.0.0", kHard}, {"A", "^1.0.0", kSoft}});
  cat.Put("A", "1.0.0", {{"Lib", ">=1.0.0 <2.0.0", kHard}});
  cat.Put("B", "1.0.0", {{"Lib", "~1.2", kHard}});
  for (auto v : {"1.0.0", "1.2.5", "1.3.0", "2.0.0"}) cat.Put("Lib", v);
  auto r = Resolve(cat, {{"App", "1.0.0", "deployment d"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Installed(*r), "Lib 1.2.5, A 1.0.0, B 1.0.0, App 1.0.0");
  const ResolvedComponent& lib = r->components[0];
  ASSERT_EQ(lib.required_by.size(), 2u);
  EXPECT_EQ(lib.required_by[0].requirer, "B 1.0.0");  // B is listed first in App's recipe
  EXPECT_EQ(lib.required_by[1].requirer, "A 1.0.0");
  EXPECT_EQ(r->components[1].required_by[0].type, kSoft);
  EXPECT_EQ(r->components[3].dependencies.size(), 2u);
}

TEST(ResolveTest, TwoRootsAgreeOnTheHighestCommonVersion) {
  TestCatalogue cat;
  for (auto v : {"1.0.0", "1.2.0", "1.5.0", "2.1.0"}) cat.Put("Model", v);
  auto r = Resolve(cat, {{"Model", "^1.0.0", "deployment thing-7"},
                         {"Model", "<1.5.0", "deployment group:line-3"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Installed(*r), "Model 1.2.0");
  EXPECT_EQ(r->components[0].required_by.size(), 2u);
}

TEST(ResolveTest, TwoRootsInConflictAreBothNamed) {
  TestCatalogue cat;
  for (auto v : {"1.0.0", "1.5.0", "2.1.0"}) cat.Put("com.example.Model", v);
  auto r = Resolve(cat, {{"com.example.Model", ">=1.0.0 <2.0.0", "deployment thing-7"},
                         {"com.example.Model", "2.1.0", "deployment group:line-3"}});
  EXPECT_EQ(Error(r),
            "FailedPrecondition: com.example.Model: no version satisfies every requirement: "
            "deployment thing-7 requires >=1.0.0 <2.0.0; deployment group:line-3 requires 2.1.0; "
            "available: 1.0.0, 1.5.0, 2.1.0");
}

TEST(ResolveTest, TransitiveConflictNamesTheDependentVersionAndTheRoot) {
  TestCatalogue cat;
  cat.Put("com.example.Inference", "1.0.0", {{"com.example.Model", ">=1.0.0 <2.0.0", kHard}});
  for (auto v : {"1.0.0", "1.5.0", "2.1.0"}) cat.Put("com.example.Model", v);
  auto r = Resolve(cat, {{"com.example.Inference", "^1.0.0", "deployment thing-7"},
                         {"com.example.Model", "2.1.0", "deployment group:line-3"}});
  EXPECT_EQ(Error(r),
            "FailedPrecondition: com.example.Model: no version satisfies every requirement: "
            "deployment group:line-3 requires 2.1.0; com.example.Inference 1.0.0 requires "
            ">=1.0.0 <2.0.0; available: 1.0.0, 1.5.0, 2.1.0");
}

TEST(ResolveTest, ConflictWithAVersionChosenEarlierNamesEveryRequirer) {
  // Model is chosen (2.1.0) before Inference adds its requirement.
  TestCatalogue cat;
  cat.Put("Inference", "1.0.0", {{"Model", "^1.0.0", kSoft}});
  for (auto v : {"1.0.0", "2.1.0"}) cat.Put("Model", v);
  auto r =
      Resolve(cat, {{"Model", "2.1.0", "deployment a"}, {"Inference", "1.0.0", "deployment b"}});
  EXPECT_EQ(Error(r),
            "FailedPrecondition: Model: no version satisfies every requirement: deployment a "
            "requires 2.1.0; Inference 1.0.0 requires ^1.0.0 (SOFT); available: 1.0.0, 2.1.0");
}

TEST(ResolveTest, BacktracksWhenALaterRequirementInvalidatesAnEarlierChoice) {
  TestCatalogue cat;
  cat.Put("A", "1.0.0");
  cat.Put("A", "1.1.0");
  cat.Put("B", "1.0.0", {{"A", "<1.1.0", kHard}});
  auto r = Resolve(cat, {{"A", "^1.0.0", "deployment d"}, {"B", "^1.0.0", "deployment d"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Installed(*r), "A 1.0.0, B 1.0.0");
}

TEST(ResolveTest, BacktracksToALowerVersionWhoseDependenciesFit) {
  TestCatalogue cat;
  cat.Put("App", "2.0.0", {{"Lib", "^2.0.0", kHard}});
  cat.Put("App", "1.0.0", {{"Lib", "^1.0.0", kHard}});
  cat.Put("Lib", "1.4.0");
  cat.Put("Lib", "2.0.0");
  auto r = Resolve(cat, {{"App", "*", "deployment d"}, {"Lib", "~1.4", "deployment e"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Installed(*r), "Lib 1.4.0, App 1.0.0");
  // Without the second root the highest App wins.
  r = Resolve(cat, {{"App", "*", "deployment d"}});
  EXPECT_EQ(Error(r), "resolved: Lib 2.0.0, App 2.0.0");
}

TEST(ResolveTest, ExhaustedBacktrackingReportsTheFirstConflict) {
  TestCatalogue cat;
  cat.Put("App", "2.0.0", {{"Lib", "^2.0.0", kHard}});
  cat.Put("App", "1.0.0", {{"Lib", "^1.0.0", kHard}});
  cat.Put("Lib", "3.0.0");
  auto r = Resolve(cat, {{"App", "*", "deployment d"}});
  EXPECT_EQ(Error(r),
            "FailedPrecondition: Lib: no version satisfies every requirement: App 2.0.0 "
            "requires ^2.0.0; available: 3.0.0 (no other combination works either: 2 versions "
            "tried)");
}

TEST(ResolveTest, RefusesADependencyCycleNamingIt) {
  TestCatalogue cat;
  cat.Put("A", "1.0.0", {{"B", "^1.0.0", kHard}});
  cat.Put("B", "1.0.0", {{"C", "^1.0.0", kHard}});
  cat.Put("C", "1.0.0", {{"B", "1.0.0", kSoft}});
  cat.Put("D", "1.0.0", {{"D", "*", kHard}});
  EXPECT_EQ(Error(Resolve(cat, {{"A", "1.0.0", "deployment d"}})),
            "InvalidArgument: dependency cycle: B 1.0.0 -> C 1.0.0 -> B 1.0.0");
  EXPECT_EQ(Error(Resolve(cat, {{"D", "1.0.0", "deployment d"}})),
            "InvalidArgument: dependency cycle: D 1.0.0 -> D 1.0.0");
}

TEST(ResolveTest, PlatformProvidedComponentsAreListedApartAndNotLookedUp) {
  TestCatalogue cat;
  cat.Put("Inference", "1.0.0",
          {{"aws.greengrass.StreamManager", "^2.0.0", kHard}, {"Model", ">=0.0.1", kHard}});
  cat.Put("Model", "0.0.1");
  PlatformLookup platform = [](std::string_view name) {
    if (name == "aws.greengrass.StreamManager") {
      return ProvidedStatus{Provision::kProvided, "vqi-agent's outbound spool"};
    }
    return ProvidedStatus{};
  };
  auto r = Resolve(cat, {{"Inference", "1.0.0", "deployment d"}}, platform);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Installed(*r), "Model 0.0.1, Inference 1.0.0");
  ASSERT_EQ(r->provided.size(), 1u);
  EXPECT_EQ(r->provided[0].name, "aws.greengrass.StreamManager");
  EXPECT_EQ(r->provided[0].detail, "vqi-agent's outbound spool");
  EXPECT_EQ(r->provided[0].required_by[0].requirer, "Inference 1.0.0");
  EXPECT_EQ(cat.lookups, 2);  // Inference and Model only
}

TEST(ResolveTest, PlatformRefusedComponentIsAnErrorNamingItsRequirer) {
  TestCatalogue cat;
  cat.Put("Inference", "1.0.0", {{"aws.greengrass.SecretManager", "^2.0.0", kSoft}});
  PlatformLookup platform = [](std::string_view name) {
    if (name != "aws.greengrass.SecretManager") return ProvidedStatus{};
    return ProvidedStatus{Provision::kRefused, "vqi has no secret manager"};
  };
  EXPECT_EQ(Error(Resolve(cat, {{"Inference", "1.0.0", "deployment d"}}, platform)),
            "FailedPrecondition: aws.greengrass.SecretManager: not supported by vqi-agent: vqi has "
            "no secret manager; Inference 1.0.0 requires ^2.0.0 (SOFT)");
}

TEST(ResolveTest, MissingDependencyIsNamedWithItsRequirer) {
  TestCatalogue cat;
  cat.Put("Inference", "1.0.0", {{"com.example.Model", ">=0.0.1", kHard}});
  EXPECT_EQ(Error(Resolve(cat, {{"Inference", "1.0.0", "deployment d"}})),
            "NotFound: com.example.Model: no such component (not in the catalogue, not provided "
            "by vqi-agent); Inference 1.0.0 requires >=0.0.1");
  EXPECT_EQ(Error(Resolve(cat, {{"Nope", "1.0.0", "deployment d"}})),
            "NotFound: Nope: no such component (not in the catalogue, not provided by "
            "vqi-agent); deployment d requires 1.0.0");
}

TEST(ResolveTest, InvalidRangesNameWhereTheyCameFrom) {
  TestCatalogue cat;
  cat.Put("Inference", "1.0.0", {{"Model", ">=1.x.0", kHard}});
  EXPECT_EQ(Error(Resolve(cat, {{"Inference", "1.0.0", "deployment d"}})),
            "InvalidArgument: Inference 1.0.0: ComponentDependencies.Model.VersionRequirement: "
            "range '>=1.x.0': '>=1.x.0': a number after a wildcard ('0')");
  cat.Put("Plain", "1.0.0");
  EXPECT_EQ(Error(Resolve(cat, {{"Plain", "1.0", "deployment d"}})), "resolved: Plain 1.0.0");
  auto r = Resolve(cat, {{"Plain", "1.0.", "deployment d"}});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("deployment d: Plain: range '1.0.'"), std::string::npos)
      << r.status().message();
}

TEST(ResolveTest, CatalogueErrorsOtherThanNotFoundAreReturned) {
  TestCatalogue cat;
  cat.Put("Inference", "1.0.0", {{"Model", "*", kHard}});
  cat.failing = "Model";
  EXPECT_EQ(Error(Resolve(cat, {{"Inference", "1.0.0", "deployment d"}})),
            "Unavailable: store offline");
}

TEST(ResolveTest, CatalogueRefusesTwoVersionsOfEqualPrecedence) {
  InMemoryCatalogue cat;
  ASSERT_TRUE(cat.Add("A", "1.0.0+a").ok());
  Status st = cat.Add("A", "1.0.0+b");
  EXPECT_EQ(st.ToString(),
            "InvalidArgument: A: version 1.0.0+b is already in the catalogue (as 1.0.0+a)");
}

TEST(ResolveTest, OutputIsDeterministic) {
  TestCatalogue one, two;
  std::vector<std::string> versions = {"1.0.0", "1.1.0", "1.2.0"};
  for (auto v : versions) one.Put("Z", v, {{"Y", "*", kHard}, {"X", "*", kHard}});
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    two.Put("Z", *it, {{"Y", "*", kHard}, {"X", "*", kHard}});
  }
  for (TestCatalogue* cat : {&one, &two}) {
    cat->Put("Y", "1.0.0");
    cat->Put("X", "1.0.0");
  }
  auto a = Resolve(one, {{"Z", "*", "d"}});
  auto b = Resolve(two, {{"Z", "*", "d"}});
  EXPECT_EQ(Error(a), "resolved: X 1.0.0, Y 1.0.0, Z 1.2.0");
  EXPECT_EQ(Error(a), Error(b));
}

// A chain C0 -> C1 -> ... -> C(n-1).
void PutChain(TestCatalogue* cat, int n) {
  for (int i = 0; i < n; ++i) {
    std::vector<DependencySpec> deps;
    if (i + 1 < n) deps.push_back({"C" + std::to_string(i + 1), "^1.0.0", kHard});
    cat->Put("C" + std::to_string(i), "1.0.0", deps);
  }
}

TEST(ResolveTest, LimitsOnComponentsAndDepth) {
  TestCatalogue cat;
  PutChain(&cat, 12);
  ResolveLimits limits;
  limits.max_depth = 12;
  EXPECT_TRUE(Resolve(cat, {{"C0", "*", "d"}}, {}, limits).ok());
  limits.max_depth = 11;
  auto r = Resolve(cat, {{"C0", "*", "d"}}, {}, limits);
  EXPECT_EQ(Error(r),
            "ResourceExhausted: a dependency chain of 12 components is longer than the maximum "
            "of 11 (docs/limits.md): C0 1.0.0 -> C1 1.0.0 -> C2 1.0.0 -> C3 1.0.0 -> C4 1.0.0 -> "
            "C5 1.0.0 -> C6 1.0.0 -> ... (4 more) -> C11 1.0.0");
  limits = ResolveLimits{};
  limits.max_components = 11;
  r = Resolve(cat, {{"C0", "*", "d"}}, {}, limits);
  EXPECT_EQ(Error(r),
            "ResourceExhausted: the resolution needs more than 11 components (the maximum, "
            "docs/limits.md)");
}

// 30 roots with two versions each, then one whose every version needs P0 >= 3.0.0: the
// chronological search tries every combination of the P's (2^30 x 30 trials) unless the
// trial limit stops it.
TEST(ResolveTest, TrialLimitStopsAnExponentialSearch) {
  TestCatalogue cat;
  const int n = 30;
  for (int i = 0; i < n; ++i) {
    std::string name = "P" + std::to_string(i);
    cat.Put(name, "1.0.0");
    cat.Put(name, "2.0.0");
  }
  std::vector<RootRequirement> roots;
  for (int i = 0; i < n; ++i) roots.push_back({"P" + std::to_string(i), "*", "d"});
  roots.push_back({"Last", "*", "d"});
  for (int i = 0; i < n; ++i) {
    cat.Put("Last", std::to_string(i + 1) + ".0.0", {{"P0", ">=3.0.0", kHard}});
  }
  auto start = std::chrono::steady_clock::now();
  auto r = Resolve(cat, roots);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << Error(r);
  EXPECT_NE(r.status().message().find("more than 100000 candidate versions"), std::string::npos);
  std::printf("100000 trials refused after %.3f s\n", seconds);
}

}  // namespace
}  // namespace vqi::component
