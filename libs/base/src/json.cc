#include "vqi/base/json.h"

#include "vqi/base/file.h"

namespace vqi {

Result<Json> ParseJson(std::string_view text, const std::string& where) {
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

}  // namespace vqi
