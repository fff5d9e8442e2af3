// Build-script placeholders in recipe text (`vqi component create --var KEY=VALUE`).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "vqi/base/status.h"

namespace vqi::component {

// The placeholders AWS's build scripts (and the GDK) fill in.
inline constexpr const char* kDefaultPlaceholders[] = {"COMPONENT_NAME", "COMPONENT_VERSION",
                                                       "BUCKET_NAME"};

// Replaces every whole-word occurrence of each key of `vars` (a word is [A-Za-z0-9_]+, so
// MY_BUCKET_NAME is not BUCKET_NAME); `{KEY}` (the GDK's spelling) and `${KEY}` (shell-style build
// scripts) are replaced braces and all. Refused (InvalidArgument, naming it): a key that is not a
// word, a value with a control character, quote or backslash (it would change the recipe's
// structure), a key other than the default placeholders that occurs nowhere in the text (a typo),
// and a default placeholder still present afterwards in ComponentVersion or an artifact Uri
// ("Manifests[0].Artifacts[0].Uri: placeholder BUCKET_NAME is not filled; pass --var
// BUCKET_NAME=<value>"). Malformed text gives ParseRecipe's error.
Result<std::string> FillPlaceholders(std::string_view recipe_text,
                                     const std::map<std::string, std::string>& vars);

}  // namespace vqi::component
