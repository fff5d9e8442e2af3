#include "vqi/component/placeholders.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "recipe_text.h"

namespace vqi::component {
namespace {

bool IsWordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Replaces whole-word `key` (and `{key}`) in `text`; returns how many were replaced.
size_t ReplaceWord(std::string* text, const std::string& key, const std::string& value) {
  size_t count = 0;
  for (size_t at = text->find(key); at != std::string::npos; at = text->find(key, at)) {
    const size_t end = at + key.size();
    if ((at > 0 && IsWordChar((*text)[at - 1])) ||
        (end < text->size() && IsWordChar((*text)[end]))) {
      at = end;
      continue;
    }
    size_t from = at, to = end;
    if (from > 0 && (*text)[from - 1] == '{' && to < text->size() && (*text)[to] == '}') {
      --from;  // {KEY} (the GDK's spelling)
      ++to;
      if (from > 0 && (*text)[from - 1] == '$') --from;  // ${KEY} (shell-style build scripts)
    }
    text->replace(from, to - from, value);
    at = from + value.size();
    ++count;
  }
  return count;
}

bool ContainsWord(std::string text, const std::string& key) {
  return ReplaceWord(&text, key, "") > 0;
}

// The value of the first key of object `obj` equal to `name` ignoring case.
const Json* FindCi(const Json& obj, std::string_view name) {
  if (!obj.is_object()) return nullptr;
  for (const auto& [k, v] : obj.items()) {
    if (k.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < k.size() && same; ++i)
      same = std::tolower(static_cast<unsigned char>(k[i])) ==
             std::tolower(static_cast<unsigned char>(name[i]));
    if (same) return &v;
  }
  return nullptr;
}

Status CheckFilled(const Json* value, const std::string& path) {
  if (!value || !value->is_string()) return Status::Ok();
  for (const char* p : kDefaultPlaceholders)
    if (ContainsWord(value->get<std::string>(), p))
      return InvalidArgument(path + ": placeholder " + p + " is not filled; pass --var " + p +
                             "=<value>");
  return Status::Ok();
}

}  // namespace

Result<std::string> FillPlaceholders(std::string_view recipe_text,
                                     const std::map<std::string, std::string>& vars) {
  std::string text(recipe_text);
  const std::set<std::string> defaults(std::begin(kDefaultPlaceholders),
                                       std::end(kDefaultPlaceholders));
  for (const auto& [key, value] : vars) {
    if (key.empty() || !std::all_of(key.begin(), key.end(), IsWordChar))
      return InvalidArgument("--var " + key +
                             ": a placeholder is a word of letters, digits and '_'");
    for (unsigned char c : value)
      if (c < 0x20 || c == 0x7f || c == '"' || c == '\'' || c == '\\')
        return InvalidArgument("--var " + key +
                               ": the value may not contain control characters, quotes or "
                               "backslashes (it is inserted into the recipe text)");
    if (ReplaceWord(&text, key, value) == 0 && !defaults.count(key))
      return InvalidArgument("--var " + key + ": the recipe does not contain the placeholder " +
                             key);
  }
  VQI_ASSIGN_OR_RETURN(internal::Document doc, internal::LoadDocument(text, "recipe"));
  VQI_RETURN_IF_ERROR(CheckFilled(FindCi(doc.value, "ComponentVersion"), "ComponentVersion"));
  if (const Json* manifests = FindCi(doc.value, "Manifests"); manifests && manifests->is_array()) {
    for (size_t i = 0; i < manifests->size(); ++i) {
      const Json* artifacts = FindCi((*manifests)[i], "Artifacts");
      if (!artifacts || !artifacts->is_array()) continue;
      for (size_t j = 0; j < artifacts->size(); ++j)
        VQI_RETURN_IF_ERROR(CheckFilled(
            FindCi((*artifacts)[j], "Uri"),
            "Manifests[" + std::to_string(i) + "].Artifacts[" + std::to_string(j) + "].Uri"));
    }
  }
  return text;
}

}  // namespace vqi::component
