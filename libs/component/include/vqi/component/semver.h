// Semantic versions (SemVer 2.0.0) and npm-style version ranges, as Greengrass component
// recipes use them (`ComponentVersion`, `ComponentDependencies.*.VersionRequirement`).
// Grammar, pre-release rule and limits: docs/design/versions.md, docs/limits.md.
//
// Errors: InvalidArgument naming the field and the offending token; ResourceExhausted for text
// longer than the documented limit. Value types, thread-compatible.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/status.h"

namespace vqi::component {

// Longest version text accepted (the Greengrass API's bound on `componentVersion`).
inline constexpr size_t kMaxVersionLength = 64;
// Largest MAJOR, MINOR or PATCH (2^53 - 1, npm's bound).
inline constexpr uint64_t kMaxVersionNumber = 9007199254740991ULL;
// Longest range text accepted.
inline constexpr size_t kMaxRangeLength = 1024;

struct Version {
  uint64_t major = 0;
  uint64_t minor = 0;
  uint64_t patch = 0;
  std::vector<std::string> prerelease;  // identifiers after '-'; empty for a release
  std::vector<std::string> build;       // identifiers after '+'; ignored by precedence

  // "1.2.3-beta.1+sha.5114f85": the text this version was parsed from.
  std::string ToString() const;
  bool IsPrerelease() const { return !prerelease.empty(); }
};

// SemVer precedence: <0, 0, >0. Build metadata is ignored, so two versions that differ only
// in build metadata compare equal.
int Compare(const Version& a, const Version& b);
inline std::weak_ordering operator<=>(const Version& a, const Version& b) {
  int c = Compare(a, b);
  return c < 0 ? std::weak_ordering::less
               : (c > 0 ? std::weak_ordering::greater : std::weak_ordering::equivalent);
}
inline bool operator==(const Version& a, const Version& b) { return Compare(a, b) == 0; }

// Parses a strict SemVer 2.0.0 version (no 'v' prefix, no spaces). `field` names the input in
// errors, e.g. "ComponentVersion: '1.2' is not a semantic version (MAJOR.MINOR.PATCH, e.g.
// 1.2.0)".
Result<Version> ParseVersion(std::string_view text, std::string_view field);

enum class Op { kEq, kLt, kLe, kGt, kGe };

struct Comparator {
  Op op = Op::kEq;
  Version version;
};

// A union ("||") of comparator sets; each set is an intersection. A set without comparators
// matches every release version (written "*").
struct Range {
  std::string text;  // as written, outer whitespace trimmed: what error messages quote
  std::vector<std::vector<Comparator>> sets;
};

// Parses an npm range: comparators <, <=, >, >=, =, exact versions, x/X/* wildcards and
// partial versions, ^, ~, hyphen ranges "1.2.3 - 2.3.4", "||" unions, whitespace-separated
// intersections. `field` names the input in errors.
Result<Range> ParseRange(std::string_view text, std::string_view field);

// The range that admits exactly `v` (as "=v").
Range ExactRange(const Version& v);

// True when `v` satisfies some set of `range`: every comparator holds and, if `v` is a
// pre-release, some comparator of that set has a pre-release on the same MAJOR.MINOR.PATCH.
bool Satisfies(const Version& v, const Range& range);

// Normalized comparator form: ">=1.2.3 <2.0.0-0 || =3.0.0"; "*" for a set without
// comparators. ParseRange(ToString(r)) admits the same versions as r.
std::string ToString(const Range& range);

}  // namespace vqi::component
