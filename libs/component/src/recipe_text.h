// Recipe text → Json, with the line of every key and array element (private to the library).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "vqi/base/json.h"
#include "vqi/base/status.h"

namespace vqi::component::internal {

// Field path ("Manifests[0].Lifecycle.Install", keys as written) → 1-based line.
using LineMap = std::map<std::string, int, std::less<>>;

struct Document {
  Json value;
  LineMap lines;
};

// "a" + "b" → "a.b" ("" + "b" → "b"); "a", 2 → "a[2]".
std::string JoinKey(std::string_view parent, std::string_view key);
std::string JoinIndex(std::string_view parent, size_t index);

// The line of `path` or of its nearest ancestor in `lines`; 0 when unknown.
int LineOf(const LineMap& lines, std::string_view path);

// `origin:line: path: message` (line and path left out when unknown/empty).
std::string Where(std::string_view origin, int line, std::string_view path);

// Size and depth limits, then JSON (first non-space char '{') or YAML. Exact duplicate keys
// are refused in both.
Result<Document> LoadDocument(std::string_view text, std::string_view origin);

// The two halves of LoadDocument (json_text.cc, yaml_text.cc).
Result<Document> LoadJson(std::string_view text, std::string_view origin);
Result<Document> LoadYaml(std::string_view text, std::string_view origin);

}  // namespace vqi::component::internal
