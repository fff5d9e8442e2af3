// JSON (nlohmann) with parse errors as values.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "vqi/base/status.h"

namespace vqi {

using Json = nlohmann::json;
// Keeps key insertion order; use where output order matters to people.
using OrderedJson = nlohmann::ordered_json;

// Deepest nesting of arrays/objects any parser accepts (docs/limits.md). Code that walks a
// Json recursively may rely on this bound for values that came through ParseJson; values
// built at run time (templates, JSONata) must check JsonDepth() themselves.
inline constexpr int kMaxJsonDepth = 128;

// Parses text; the error names `where` (e.g. a file name) and the byte offset. Text nested
// deeper than `max_depth` is refused with ResourceExhausted before it is parsed.
Result<Json> ParseJson(std::string_view text, const std::string& where = "input",
                       int max_depth = kMaxJsonDepth);
Result<Json> ReadJsonFile(const std::string& path);

// Nesting depth of a value (a scalar is 0, `[]` and `{}` are 1), computed without recursion;
// stops counting at `cap` + 1 so a hostile value costs at most O(size).
int JsonDepth(const Json& value, int cap = kMaxJsonDepth);

}  // namespace vqi
