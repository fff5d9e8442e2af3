// The AWS IoT Greengrass v2 component recipe (RecipeFormatVersion 2020-01-25), parsed from
// JSON or YAML, validated, and written back in one canonical JSON form (docs/design/component.md).
//
// Keys are read case-insensitively as Greengrass does (`Install`, `install`, `INSTALL`); two
// keys differing only in case, unknown keys and exact duplicate keys are refused. Errors are
// InvalidArgument (ResourceExhausted for the limits in vqi/component/limits.h) with the message
// `<origin>:<line>: <field path>: <problem>`. Thread-compatible value types; the functions are
// thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/component/dependency_type.h"

namespace vqi::component {

inline constexpr std::string_view kRecipeFormatVersion = "2020-01-25";
inline constexpr std::string_view kDefaultComponentType = "aws.greengrass.generic";

const char* DependencyTypeName(DependencyType type);  // "HARD" / "SOFT"

struct Dependency {
  std::string version_requirement;  // npm-style range (semver.h ParseRange), checked at parse
  DependencyType type = DependencyType::kHard;
  bool operator==(const Dependency&) const = default;
};

// One lifecycle step. A recipe's plain string `install: "x"` is {script = "x"}.
struct LifecycleStep {
  std::string script;
  std::optional<int64_t> timeout_seconds;  // 1..kMaxStepTimeoutSeconds; unset = Greengrass default
  bool requires_privilege = false;
  std::string skip_if;                        // "" or "onpath <exe>" / "exists <file>"
  std::map<std::string, std::string> setenv;  // step-level environment
  std::optional<bool> bootstrap_on_rollback;  // bootstrap only
  bool operator==(const LifecycleStep&) const = default;
};

// Step names in canonical spelling, in the order Greengrass runs them.
inline constexpr const char* kLifecycleSteps[] = {"bootstrap", "install",  "startup",
                                                  "run",       "shutdown", "recover"};

struct Lifecycle {
  std::map<std::string, std::string> setenv;   // `setEnv`: environment for every step
  std::map<std::string, LifecycleStep> steps;  // canonical step name -> step
  bool operator==(const Lifecycle&) const = default;
};

enum class Unarchive { kNone, kZip };
enum class Permission { kNone, kOwner, kAll };
const char* UnarchiveName(Unarchive u);    // "NONE" / "ZIP"
const char* PermissionName(Permission p);  // "NONE" / "OWNER" / "ALL"

struct Artifact {
  std::string uri;
  std::string digest;     // lowercase hex SHA-256, or "" when the recipe gives none
  std::string algorithm;  // "SHA-256" when digest is set, else ""
  Unarchive unarchive = Unarchive::kNone;
  Permission read = Permission::kOwner;
  Permission execute = Permission::kNone;
  bool operator==(const Artifact&) const = default;
};

struct Manifest {
  std::map<std::string, std::string> platform;  // "os", "architecture", others; empty = any
  std::string name;                             // optional
  std::optional<Lifecycle> lifecycle;
  std::vector<Artifact> artifacts;
  std::vector<std::string> selections;  // keys into Recipe::lifecycle_selections
  bool operator==(const Manifest&) const = default;
};

struct Recipe {
  std::string format_version = std::string(kRecipeFormatVersion);
  std::string name;
  std::string version;
  std::string type = std::string(kDefaultComponentType);
  std::string description;
  std::string publisher;
  Json default_configuration = Json::object();  // ComponentConfiguration.DefaultConfiguration
  std::map<std::string, Dependency> dependencies;
  std::vector<Manifest> manifests;
  // Top-level `Lifecycle`: its step keys, and the sections named by manifests' Selections.
  std::optional<Lifecycle> lifecycle;
  std::map<std::string, Lifecycle> lifecycle_selections;
  bool operator==(const Recipe&) const = default;
};

// Parses and validates a recipe. `origin` (a file name) starts every error message.
Result<Recipe> ParseRecipe(std::string_view text, std::string_view origin);

// Validates an already parsed document (e.g. a stored canonical recipe). Errors name the
// field path but no line.
Result<Recipe> RecipeFromJson(const Json& doc, std::string_view origin);

// The canonical form: canonical key spelling, steps as objects, defaults filled, digests as
// lowercase hex, keys sorted. Deterministic: RecipeToJson(r).dump() is what gets signed.
// RecipeFromJson(RecipeToJson(r)) == r.
Json RecipeToJson(const Recipe& recipe);

// The one place ComponentVersion is checked: a strict SemVer 2.0.0 version (ParseVersion,
// semver.h). The message does not name the field (callers prefix it); InvalidArgument, or
// ResourceExhausted above kMaxVersionLength.
Status ValidateVersionField(std::string_view version);
// ComponentName and dependency names: 1..kMaxComponentNameBytes of [A-Za-z0-9._-], not
// starting with '.' (names become folder names on the device).
Status ValidateComponentName(std::string_view name);

// The lifecycle a manifest runs: its own, else the top-level one merged with the selected
// sections (Selections, default ["all"]); steps from later selections replace earlier ones
// (a section's `startup` also replaces an earlier `run` and the other way round).
Lifecycle EffectiveLifecycle(const Recipe& recipe, const Manifest& manifest);

}  // namespace vqi::component
