// JSONPath as Amazon States Language uses it: `$`, `.name`, `['name']`, `[n]`, `[-n]`,
// `[*]`, `[a:b:c]`, `..name`, `[?(@.k op v)]`, plus ASL's roots `$$` (context object)
// and `$name` (a workflow variable).
//
// Paths are parsed once; Query() is thread-safe on a parsed path.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"

namespace vqi::workflow {

class JsonPath {
 public:
  enum class Root { kInput, kContext, kVariable };
  struct Segment {
    enum class Kind { kField, kIndex, kWildcard, kSlice, kDescend, kFilter };
    Kind kind = Kind::kField;
    std::string name;                     // kField / kDescend ("" = any)
    long long index = 0;                  // kIndex
    std::optional<long long> start, end;  // kSlice
    long long step = 1;
    // kFilter: @<filter_path> <filter_op> <filter_value> (filter_op "" = exists).
    std::vector<Segment> filter_path;
    std::string filter_op;
    Json filter_value;
  };

  // InvalidArgument("... invalid JSONPath ...") on syntax errors.
  static Result<JsonPath> Parse(std::string_view text);

  Root root() const { return root_; }
  const std::string& variable() const { return variable_; }
  const std::string& text() const { return text_; }
  // True when the path selects at most one node (no wildcard, slice, descent or filter).
  bool definite() const { return definite_; }
  // jayway-style normalized form, e.g. $['a'][0].
  std::string Normalized() const;

  // Nodes one Query may step on (docs/limits.md, Workflows).
  static constexpr uint64_t kMaxVisitedNodes = 1'000'000;

  // Definite paths: the node or nullopt. Indefinite: an array of matches (possibly empty).
  // ResourceExhausted when the query steps on more than kMaxVisitedNodes nodes.
  Result<std::optional<Json>> Query(const Json& root) const;
  // Writes `value` at this (definite, input-rooted) path, creating objects on the way.
  // Fails when an intermediate node is not an object (or the path is indefinite).
  Status Set(Json& root, Json value) const;

 private:
  Root root_ = Root::kInput;
  std::string variable_;
  std::string text_;
  bool definite_ = true;
  std::vector<Segment> segments_;
};

}  // namespace vqi::workflow
