#include "vqi/component/semver.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace vqi::component {
namespace {

Version V(std::string_view text) {
  auto v = ParseVersion(text, "test");
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? *v : Version{};
}

Range R(std::string_view text) {
  auto r = ParseRange(text, "test");
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : Range{};
}

std::string VersionError(std::string_view text) {
  auto v = ParseVersion(text, "ComponentVersion");
  return v.ok() ? "parsed as " + v->ToString() : v.status().ToString();
}

std::string RangeError(std::string_view text) {
  auto r = ParseRange(text, "VersionRequirement");
  return r.ok() ? "parsed as " + ToString(*r) : r.status().ToString();
}

TEST(VersionTest, PrecedenceFollowsTheSemVerSpecList) {
  // SemVer 2.0.0 §11, in increasing precedence.
  const std::vector<std::string> ordered = {"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
                                            "1.0.0-beta",  "1.0.0-beta.2",  "1.0.0-beta.11",
                                            "1.0.0-rc.1",  "1.0.0",         "2.0.0",
                                            "2.1.0",       "2.1.1",         "10.0.0"};
  for (size_t i = 0; i < ordered.size(); ++i) {
    for (size_t j = 0; j < ordered.size(); ++j) {
      int c = Compare(V(ordered[i]), V(ordered[j]));
      int expected = i < j ? -1 : (i > j ? 1 : 0);
      EXPECT_EQ(c, expected) << ordered[i] << " vs " << ordered[j];
    }
  }
}

TEST(VersionTest, BuildMetadataIsKeptButIgnoredByPrecedence) {
  Version a = V("1.0.0-alpha+001");
  EXPECT_EQ(a.ToString(), "1.0.0-alpha+001");
  EXPECT_EQ(a.build, std::vector<std::string>{"001"});  // leading zeros are fine in build ids
  EXPECT_TRUE(V("1.0.0+a") == V("1.0.0+b"));
  EXPECT_TRUE(V("1.0.0+exp.sha.5114f85") > V("1.0.0-rc.1"));
  EXPECT_TRUE(V("1.0.0+a") < V("1.0.1"));
}

TEST(VersionTest, NumericIdentifiersCompareAsNumbersOfAnySize) {
  EXPECT_LT(Compare(V("1.0.0-9"), V("1.0.0-10")), 0);
  EXPECT_LT(Compare(V("1.0.0-9"), V("1.0.0-99999999999999999999999")), 0);
  EXPECT_LT(Compare(V("1.0.0-99999"), V("1.0.0-a")), 0);  // numeric below alphanumeric
  EXPECT_LT(Compare(V("1.0.0-a"), V("1.0.0-a.0")), 0);    // shorter list first
  EXPECT_LT(Compare(V("1.0.0-A"), V("1.0.0-a")), 0);      // ASCII order
  // '-' is part of an identifier: ["x-y"] against ["x", "y"] compares "x-y" with "x".
  EXPECT_GT(Compare(V("1.0.0-x-y"), V("1.0.0-x.y")), 0);
  EXPECT_EQ(V("1.0.0-x-y").prerelease, std::vector<std::string>{"x-y"});
}

TEST(VersionTest, ParsesTheLargestNumbers) {
  Version v = V("9007199254740991.0.9007199254740991");
  EXPECT_EQ(v.major, kMaxVersionNumber);
  EXPECT_EQ(v.patch, kMaxVersionNumber);
  EXPECT_EQ(V("0.0.0").ToString(), "0.0.0");
}

TEST(VersionTest, RefusesInvalidVersionsNamingFieldAndToken) {
  EXPECT_EQ(VersionError("1.2"),
            "InvalidArgument: ComponentVersion: '1.2' is not a semantic version "
            "(MAJOR.MINOR.PATCH, e.g. 1.2.0)");
  EXPECT_EQ(VersionError("1.2.3.4"),
            "InvalidArgument: ComponentVersion: '1.2.3.4' is not a semantic version "
            "(MAJOR.MINOR.PATCH, e.g. 1.2.0)");
  EXPECT_EQ(VersionError(""),
            "InvalidArgument: ComponentVersion: empty; expected a semantic version "
            "(MAJOR.MINOR.PATCH, e.g. 1.2.0)");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"01.2.3", ": MAJOR '01' has a leading zero"},
      {"1.02.3", ": MINOR '02' has a leading zero"},
      {"1.2.3-01", ": pre-release identifier '01' has a leading zero"},
      {"1.2.3-", ": empty pre-release identifier"},
      {"1.2.3-a..b", ": empty pre-release identifier"},
      {"1.2.3+", ": empty build identifier"},
      {"1.2.3-be$ta", ": pre-release identifier 'be$ta' has a character other than"},
      {"1..3", ": MINOR is empty"},
      {"1.2.x", ": PATCH 'x' is not a number"},
      {"v1.2.3", ": MAJOR 'v1' is not a number"},
      {" 1.2.3", ": MAJOR ' 1' is not a number"},
      {"1.2.3\n", ": PATCH '3\\x0a' is not a number"},
      {"9007199254740992.0.0", ": MAJOR '9007199254740992' is larger than 9007199254740991"},
      {"1.99999999999999999999999.0", "is larger than 9007199254740991"},
  };
  for (const auto& [text, detail] : cases) {
    std::string err = VersionError(text);
    EXPECT_EQ(err.rfind("InvalidArgument: ComponentVersion: ", 0), 0u) << err;
    EXPECT_NE(err.find("is not a semantic version"), std::string::npos) << err;
    EXPECT_NE(err.find(detail), std::string::npos) << text << " -> " << err;
  }
}

TEST(VersionTest, RefusesVersionsLongerThanTheLimit) {
  std::string ok = "1.0.0-" + std::string(kMaxVersionLength - 6, 'a');
  EXPECT_TRUE(ParseVersion(ok, "ComponentVersion").ok());
  auto v = ParseVersion(ok + "a", "ComponentVersion");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(v.status().message().find("has 65 characters, more than the maximum of 64"),
            std::string::npos)
      << v.status().message();
}

// Each form desugars as node-semver documents it (docs/design/versions.md table).
TEST(RangeTest, DesugarsEveryFormLikeNpm) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"1.2.3", "=1.2.3"},
      {"=1.2.3", "=1.2.3"},
      {"v1.2.3", "=1.2.3"},
      {"*", "*"},
      {"x", "*"},
      {"1.x", ">=1.0.0 <2.0.0-0"},
      {"1", ">=1.0.0 <2.0.0-0"},
      {"1.2.X", ">=1.2.0 <1.3.0-0"},
      {"1.2", ">=1.2.0 <1.3.0-0"},
      {"~1.2.3", ">=1.2.3 <1.3.0-0"},
      {"~1.2", ">=1.2.0 <1.3.0-0"},
      {"~1", ">=1.0.0 <2.0.0-0"},
      {"~0.2.3", ">=0.2.3 <0.3.0-0"},
      {"~>1.2.3", ">=1.2.3 <1.3.0-0"},
      {"~1.2.3-beta.2", ">=1.2.3-beta.2 <1.3.0-0"},
      {"^1.2.3", ">=1.2.3 <2.0.0-0"},
      {"^0.2.3", ">=0.2.3 <0.3.0-0"},
      {"^0.0.3", ">=0.0.3 <0.0.4-0"},
      {"^1.2.3-beta.2", ">=1.2.3-beta.2 <2.0.0-0"},
      {"^1.2.x", ">=1.2.0 <2.0.0-0"},
      {"^1.x", ">=1.0.0 <2.0.0-0"},
      {"^0.x", ">=0.0.0 <1.0.0-0"},
      {"^0.0.x", ">=0.0.0 <0.1.0-0"},
      {"^0.0", ">=0.0.0 <0.1.0-0"},
      {"^0.1", ">=0.1.0 <0.2.0-0"},
      {">1.2.3", ">1.2.3"},
      {">1.2", ">=1.3.0"},
      {">1", ">=2.0.0"},
      {"<1.2", "<1.2.0-0"},
      {"<=1.2", "<1.3.0-0"},
      {"<=1.2.3", "<=1.2.3"},
      {">=1.2", ">=1.2.0"},
      {">*", "<0.0.0-0"},
      {">=*", "*"},
      {"1.2.3 - 2.3.4", ">=1.2.3 <=2.3.4"},
      {"1.2 - 2.3.4", ">=1.2.0 <=2.3.4"},
      {"1.2.3 - 2.3", ">=1.2.3 <2.4.0-0"},
      {"1.2.3 - 2", ">=1.2.3 <3.0.0-0"},
      {">=1.0.0 <2.0.0", ">=1.0.0 <2.0.0"},
      {">= 1.0.0  <  2.0.0", ">=1.0.0 <2.0.0"},
      {"\t1.x || >=2.5.0 ||  3.0.0-rc.1 ", ">=1.0.0 <2.0.0-0 || >=2.5.0 || =3.0.0-rc.1"},
  };
  for (const auto& [text, normalized] : cases) {
    EXPECT_EQ(ToString(R(text)), normalized) << text;
  }
  EXPECT_EQ(R(" ^1.2.3 ").text, "^1.2.3");
}

struct SatisfiesCase {
  std::string range;
  std::vector<std::string> in;
  std::vector<std::string> out;
};

TEST(RangeTest, SatisfiesEveryFormAndThePrereleaseRule) {
  const std::vector<SatisfiesCase> cases = {
      {">=1.0.0 <2.0.0", {"1.0.0", "1.9.9"}, {"0.9.9", "2.0.0", "1.5.0-beta", "2.0.0-0"}},
      {"1.2.3", {"1.2.3", "1.2.3+build.7"}, {"1.2.4", "1.2.3-rc.1"}},
      {"^1.2.3", {"1.2.3", "1.9.0"}, {"1.2.2", "2.0.0", "2.0.0-alpha", "1.3.0-beta"}},
      {"^0.2.3", {"0.2.3", "0.2.9"}, {"0.3.0", "0.2.2"}},
      {"^0.0.3", {"0.0.3"}, {"0.0.4", "0.0.2"}},
      {"^0.x", {"0.0.0", "0.9.9"}, {"1.0.0"}},
      {"~1.2", {"1.2.0", "1.2.99"}, {"1.3.0", "1.1.9"}},
      {"~1.2.3", {"1.2.3", "1.2.4"}, {"1.3.0", "1.2.2"}},
      {"*", {"0.0.0", "99.0.0"}, {"1.0.0-beta"}},
      {"1.x", {"1.0.0", "1.99.0"}, {"2.0.0", "0.1.0"}},
      {">=1.2.3-alpha.3", {"1.2.3-alpha.7", "1.2.3", "3.4.5"}, {"3.4.5-alpha.9", "1.2.3-alpha.2"}},
      {"^1.2.3-beta.2", {"1.2.3-beta.4", "1.2.3", "1.9.0"}, {"1.2.4-beta.2", "1.2.3-beta.1"}},
      {"1.2.3 - 2.3.4", {"1.2.3", "2.3.4"}, {"2.3.5", "1.2.2"}},
      {"1.2.3 - 2.3", {"2.3.99"}, {"2.4.0", "2.4.0-0"}},
      {"<1.0.0 || >=2.0.0 <2.1.0", {"0.5.0", "2.0.5"}, {"1.0.0", "2.1.0"}},
      {"1.0.0-rc.1 || 2.x", {"1.0.0-rc.1", "2.5.0"}, {"1.0.0-rc.2", "2.5.0-rc.1"}},
      {">*", {}, {"0.0.0", "1.0.0"}},
  };
  for (const SatisfiesCase& c : cases) {
    Range r = R(c.range);
    for (const std::string& v : c.in) EXPECT_TRUE(Satisfies(V(v), r)) << v << " in " << c.range;
    for (const std::string& v : c.out) EXPECT_FALSE(Satisfies(V(v), r)) << v << " in " << c.range;
  }
}

TEST(RangeTest, NormalizedFormAdmitsTheSameVersions) {
  const std::vector<std::string> ranges = {
      "^0.0.x", "~1.2", "1.2.3 - 2.3", ">1.2 <=3", "^1.2.3-beta.2 || 0.x", "*"};
  const std::vector<std::string> versions = {"0.0.0",   "0.0.9",        "0.1.0", "1.2.0",
                                             "1.2.3",   "1.2.3-beta.3", "1.3.0", "2.3.5",
                                             "2.4.0-0", "3.0.0",        "3.9.9", "4.0.0"};
  for (const std::string& text : ranges) {
    Range a = R(text);
    Range b = R(ToString(a));
    for (const std::string& v : versions) {
      EXPECT_EQ(Satisfies(V(v), a), Satisfies(V(v), b)) << v << " in " << text;
    }
  }
}

TEST(RangeTest, ExactRangeAdmitsOnlyThatVersion) {
  Range r = ExactRange(V("1.0.0-beta"));
  EXPECT_TRUE(Satisfies(V("1.0.0-beta"), r));
  EXPECT_FALSE(Satisfies(V("1.0.0"), r));
  EXPECT_EQ(r.text, "1.0.0-beta");
}

TEST(RangeTest, RefusesInvalidRangesNamingFieldAndToken) {
  EXPECT_EQ(RangeError(""),
            "InvalidArgument: VersionRequirement: empty version range (write e.g. >=1.0.0 "
            "<2.0.0, ^1.2.0, ~1.2.0, 1.2.3, or * for any version)");
  EXPECT_EQ(RangeError(">=1.0.0 <2.x.1"),
            "InvalidArgument: VersionRequirement: range '>=1.0.0 <2.x.1': '<2.x.1': a number "
            "after a wildcard ('1')");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"   ", "empty version range"},
      {">=", "'>=': an operator without a version"},
      {"1.0.0 ||", "empty alternative around '||'"},
      {"|| 1.0.0", "empty alternative around '||'"},
      {"1.2-beta", "'1.2-beta': a pre-release or build suffix needs a full"},
      {"1 - 2 - 3", "'-': '-' only joins two versions"},
      {">=1 - 2", "'>=1': no operator in a hyphen range"},
      {"a.b.c", "'a.b.c': MAJOR 'a' is not a number"},
      {">=01.0.0", "'>=01.0.0': MAJOR '01' has a leading zero"},
      {"1.2.3.4", "'1.2.3.4': more than three numbers"},
      {"^1.2.3-", "'^1.2.3-': empty pre-release identifier"},
      {"1.0.0 | 2.0.0", "'|': MAJOR '|' is not a number"},
      {"=v", "'=v': no version"},
      {"2.0.0 && 3.0.0", "'&&': MAJOR '&&' is not a number"},
      {"^99999999999999999.0.0", "is larger than 9007199254740991"},
  };
  for (const auto& [text, detail] : cases) {
    std::string err = RangeError(text);
    EXPECT_NE(err.find(detail), std::string::npos) << text << " -> " << err;
    EXPECT_EQ(err.rfind("InvalidArgument: VersionRequirement: ", 0), 0u) << err;
  }
  // Not a broken hyphen range: version 1.2.3 with pre-release "2.0.0", as npm reads it.
  EXPECT_EQ(RangeError("1.2.3-2.0.0"), "parsed as =1.2.3-2.0.0");
}

TEST(RangeTest, RefusesRangesLongerThanTheLimit) {
  std::string text = "1.0.0";
  while (text.size() + 9 <= kMaxRangeLength) text += " || 1.0.0";
  EXPECT_TRUE(ParseRange(text, "f").ok());
  auto r = ParseRange(text + std::string(kMaxRangeLength - text.size() + 1, ' '), "f");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(r.status().message().find("more than the maximum of 1024"), std::string::npos);
}

// Seeded random text from the range alphabet: parsing never crashes, and whatever parses
// prints to a normalized form that admits the same versions.
TEST(RangeTest, RandomTextParsesOrFailsCleanlyAndRoundTrips) {
  const std::string alphabet = "0123456789.xX*^~<>=- |vab+\t";
  const std::vector<std::string> probes = {"0.0.0",   "0.1.2", "1.0.0",  "1.2.3",  "1.2.3-a.1",
                                           "2.0.0-0", "9.9.9", "10.0.0", "1.0.0-b"};
  std::mt19937 rng(18);
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string text(rng() % 24, ' ');
    for (char& c : text) c = alphabet[rng() % alphabet.size()];
    auto r = ParseRange(text, "f");
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << text;
      EXPECT_EQ(r.status().message().rfind("f: ", 0), 0u) << r.status().message();
      continue;
    }
    ++parsed;
    auto again = ParseRange(ToString(*r), "f");
    ASSERT_TRUE(again.ok()) << text << " -> " << ToString(*r) << ": " << again.status().ToString();
    for (const std::string& v : probes) {
      EXPECT_EQ(Satisfies(V(v), *r), Satisfies(V(v), *again)) << v << " in " << text;
    }
  }
  EXPECT_GT(parsed, 100);  // the generator reaches valid ranges, not only errors
}

}  // namespace
}  // namespace vqi::component
