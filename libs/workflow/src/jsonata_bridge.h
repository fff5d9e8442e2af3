// The seam to libs/jsonata (vqi::jsonata), compiled in when VQI_HAVE_JSONATA is defined.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "vqi/base/json.h"
#include "vqi/base/status.h"

namespace vqi::workflow {

Result<std::optional<Json>> JsonataEvaluate(std::string_view expr, const Json& input,
                                            const std::map<std::string, Json>& bindings);
Status CheckJsonata(const std::string& expr);

}  // namespace vqi::workflow
