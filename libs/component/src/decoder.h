// Json document → Recipe: the Greengrass recipe schema (private to the library).
//
// Keys of schema objects match case-insensitively; the canonical spelling is the one listed in
// `accepted`. Every error names the field path (keys as written) and, when known, the line.
#pragma once

#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "recipe_text.h"
#include "vqi/component/recipe.h"

namespace vqi::component::internal {

class Decoder {
 public:
  Decoder(std::string_view origin, const LineMap* lines) : origin_(origin), lines_(lines) {}

  Result<Recipe> Decode(const Json& doc);

 private:
  struct Field {
    const Json* value = nullptr;
    std::string path;  // as written
  };
  using Fields = std::map<std::string, Field>;  // canonical key -> field

  Status Fail(std::string_view path, const std::string& message) const;
  // `st` (any code) with the origin, line and path in front of its message.
  Status Fail(std::string_view path, const Status& st) const;
  // The keys of object `obj`, matched case-insensitively against `accepted`.
  Result<Fields> ReadFields(const Json& obj, std::string_view path,
                            std::initializer_list<const char*> accepted) const;
  Result<std::string> String(const Field& f, bool required_nonempty = false) const;
  Result<bool> Bool(const Field& f) const;
  Result<int64_t> Int(const Field& f, int64_t lo, int64_t hi) const;
  Result<std::map<std::string, std::string>> Env(const Field& f) const;
  // One of `accepted` (case-insensitive); returns its index.
  Result<size_t> Enum(const Field& f, std::initializer_list<const char*> accepted) const;

  Status DecodeDependencies(const Field& f, Recipe* r) const;
  Status DecodeManifest(const Json& m, const std::string& path, Manifest* out) const;
  Status DecodePlatform(const Field& f, Manifest* out) const;
  Status DecodeArtifact(const Json& a, const std::string& path, Artifact* out) const;
  // `selections` (top-level Lifecycle only): keys naming a selection section.
  Status DecodeLifecycle(const Field& f, const std::set<std::string>* selections, Lifecycle* out,
                         std::map<std::string, Lifecycle>* sections) const;
  Status DecodeStep(const Field& f, const std::string& step, LifecycleStep* out) const;

  std::string_view origin_;
  const LineMap* lines_;
};

std::string Lower(std::string_view s);

}  // namespace vqi::component::internal
