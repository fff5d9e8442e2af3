#include "vqi/base/json.h"

#include "vqi/base/file.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace vqi {

namespace {
// Deepest [ / { nesting outside strings, and the byte where `max_depth` is first exceeded.
// Linear; does not validate (the parser does).
std::pair<int, size_t> ScanDepth(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > max_depth) return {depth, i};
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return {depth, text.size()};
}
}  // namespace

Result<Json> ParseJson(std::string_view text, const std::string& where, int max_depth) {
  auto [depth, at] = ScanDepth(text, max_depth);
  if (depth > max_depth)
    return ResourceExhausted(where + ": JSON nested deeper than " + std::to_string(max_depth) +
                             " levels at byte " + std::to_string(at) +
                             " (limit: docs/limits.md)");
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    return InvalidArgument(where + ": malformed JSON at byte " + std::to_string(e.byte) + ": " +
                           e.what());
  } catch (const Json::exception& e) {  // e.g. out_of_range.406: number overflow
    return InvalidArgument(where + ": malformed JSON: " + e.what());
  }
}

Result<Json> ReadJsonFile(const std::string& path) {
  VQI_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseJson(text, path);
}

int JsonDepth(const Json& value, int cap) {
  int deepest = 0;
  std::vector<std::pair<const Json*, int>> stack{{&value, 0}};
  while (!stack.empty()) {
    auto [v, d] = stack.back();
    stack.pop_back();
    if (!v->is_structured()) continue;
    deepest = std::max(deepest, d + 1);
    if (deepest > cap) return deepest;
    for (const auto& child : *v) stack.push_back({&child, d + 1});
  }
  return deepest;
}

}  // namespace vqi
