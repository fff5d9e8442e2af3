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

// Parses text; the error names `where` (e.g. a file name) and the byte offset.
Result<Json> ParseJson(std::string_view text, const std::string& where = "input");
Result<Json> ReadJsonFile(const std::string& path);

}  // namespace vqi
