// The recipe seam for packaging: placeholders, parse, artifact list, digests.
#include "package_recipe.h"

#include <set>

#include "vqi/signing/encoding.h"

namespace vqi::component::internal {
namespace {

bool IsWordChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// Replaces every whole-word KEY by VALUE (COMPONENT_VERSION, BUCKET_NAME, ...).
std::string Fill(std::string text, const std::map<std::string, std::string>& vars) {
  for (const auto& [key, value] : vars) {
    if (key.empty()) continue;
    std::string out;
    size_t pos = 0;
    for (size_t hit; (hit = text.find(key, pos)) != std::string::npos; pos = hit + key.size()) {
      const bool left = hit == 0 || !IsWordChar(text[hit - 1]);
      const bool right = hit + key.size() == text.size() || !IsWordChar(text[hit + key.size()]);
      out.append(text, pos, hit - pos);
      out += (left && right) ? value : key;
    }
    out.append(text, pos, std::string::npos);
    text = std::move(out);
  }
  return text;
}

Result<std::string> Field(const Json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string() || it->get<std::string>().empty())
    return InvalidArgument(where + ": " + key + ": missing or not a non-empty string");
  return it->get<std::string>();
}

Status CheckArtifactName(const std::string& name, const std::string& where) {
  if (name.empty() || name.size() > 128)
    return InvalidArgument(where + ": artifact file name '" + name +
                           "' must have 1-128 characters");
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
      return InvalidArgument(where + ": artifact file name '" + name +
                             "' is not [A-Za-z0-9][A-Za-z0-9._-]* (no paths, no hidden files)");
  }
  return Status::Ok();
}

std::string Base64(std::string_view bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (i < bytes.size()) {
    unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

}  // namespace

Result<LoadedRecipe> LoadRecipe(const std::string& text, const std::string& where,
                                const std::map<std::string, std::string>& vars) {
  VQI_ASSIGN_OR_RETURN(Json j, ParseJson(Fill(text, vars), where));
  if (!j.is_object()) return InvalidArgument(where + ": a recipe is a JSON object");
  LoadedRecipe r;
  VQI_ASSIGN_OR_RETURN(r.name, Field(j, "ComponentName", where));
  VQI_ASSIGN_OR_RETURN(r.version, Field(j, "ComponentVersion", where));
  if (auto it = j.find("ComponentPublisher"); it != j.end() && it->is_string())
    r.publisher = it->get<std::string>();
  std::set<std::string> names;
  const Json& manifests = j.contains("Manifests") ? j["Manifests"] : Json::array();
  for (size_t m = 0; m < manifests.size() && manifests.is_array(); ++m) {
    const Json& arts = manifests[m].is_object() && manifests[m].contains("Artifacts")
                           ? manifests[m]["Artifacts"]
                           : Json::array();
    for (size_t a = 0; a < arts.size() && arts.is_array(); ++a) {
      const std::string field =
          where + ": Manifests[" + std::to_string(m) + "].Artifacts[" + std::to_string(a) + "]";
      VQI_ASSIGN_OR_RETURN(std::string uri, Field(arts[a], "Uri", field));
      RecipeArtifact art{uri.substr(uri.find_last_of('/') + 1), uri, "NONE", field};
      if (auto u = arts[a].find("Unarchive"); u != arts[a].end() && u->is_string())
        art.unarchive = u->get<std::string>();
      if (art.unarchive != "NONE" && art.unarchive != "ZIP")
        return InvalidArgument(field + ".Unarchive: '" + art.unarchive + "' (accepted: NONE, ZIP)");
      VQI_RETURN_IF_ERROR(CheckArtifactName(art.name, field + ".Uri"));
      if (names.insert(art.name).second) r.artifacts.push_back(std::move(art));
    }
  }
  r.recipe = std::move(j);
  return r;
}

Result<std::string> SetArtifactDigest(Json& recipe, const std::string& name,
                                      const std::string& sha256_hex) {
  VQI_ASSIGN_OR_RETURN(std::string raw, signing::FromHex(sha256_hex, 32, "digest"));
  const std::string b64 = Base64(raw);
  const std::string uri = "vqi://artifacts/" + sha256_hex + "/" + name;
  if (!recipe.contains("Manifests") || !recipe["Manifests"].is_array()) return uri;
  for (Json& m : recipe["Manifests"]) {
    if (!m.is_object() || !m.contains("Artifacts") || !m["Artifacts"].is_array()) continue;
    for (Json& a : m["Artifacts"]) {
      const std::string old = a.value("Uri", "");
      if (old.substr(old.find_last_of('/') + 1) != name) continue;
      if (auto d = a.find("Digest");
          d != a.end() && d->is_string() && *d != b64 && *d != sha256_hex)
        return InvalidArgument("artifact " + name + ": the recipe's Digest " +
                               d->get<std::string>() + " is not the SHA-256 of the file given (" +
                               sha256_hex + ")");
      a["Uri"] = uri;
      a["Digest"] = sha256_hex;
      a["Algorithm"] = "SHA-256";
    }
  }
  return uri;
}

Result<std::string> CanonicalRecipeJson(const Json& recipe) {
  try {
    return recipe.dump(-1, ' ', false, Json::error_handler_t::strict);
  } catch (const Json::exception& e) {
    return InvalidArgument(std::string("recipe: cannot be written as JSON: ") + e.what());
  }
}

}  // namespace vqi::component::internal
