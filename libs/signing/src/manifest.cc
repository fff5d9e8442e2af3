// The canonical manifest bytes (docs/design/signing.md, "What is signed").
#include "vqi/signing/manifest.h"

#include <algorithm>
#include <set>

namespace vqi::signing {
namespace {

bool IsLowerHex(std::string_view s, size_t n) {
  return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Status CheckArtifactName(const std::string& name, const std::string& where) {
  if (name.empty()) return InvalidArgument(where + ".name: empty");
  if (name == "." || name == "..")
    return InvalidArgument(where + ".name: '" + name + "' is not a file name");
  for (unsigned char c : name)
    if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f)
      return InvalidArgument(where + ".name: '" + name +
                             "' contains a path separator or control character");
  return Status::Ok();
}

Status CheckManifest(const Manifest& m) {
  if (m.component.empty()) return InvalidArgument("manifest.component: empty");
  if (m.version.empty()) return InvalidArgument("manifest.version: empty");
  if (!IsLowerHex(m.key_id, 16))
    return InvalidArgument("manifest.key_id: '" + m.key_id.substr(0, 64) +
                           "' is not a key id (16 lowercase hex digits)");
  if (!m.recipe.is_object()) return InvalidArgument("manifest.recipe: not a JSON object");
  if (JsonDepth(m.recipe) > kMaxJsonDepth)
    return ResourceExhausted("manifest.recipe: nested deeper than " +
                             std::to_string(kMaxJsonDepth) + " levels (docs/limits.md)");
  std::set<std::string> names;
  for (size_t i = 0; i < m.artifacts.size(); ++i) {
    const ManifestArtifact& a = m.artifacts[i];
    const std::string where = "manifest.artifacts[" + std::to_string(i) + "]";
    VQI_RETURN_IF_ERROR(CheckArtifactName(a.name, where));
    if (!names.insert(a.name).second)
      return InvalidArgument(where + ".name: '" + a.name + "' appears twice");
    if (!IsLowerHex(a.digest, 64))
      return InvalidArgument(where + ".digest: '" + a.digest.substr(0, 80) +
                             "' is not a SHA-256 (64 lowercase hex digits)");
    if (a.size < 0) return InvalidArgument(where + ".size: negative");
    if (a.unarchive != "NONE" && a.unarchive != "ZIP")
      return InvalidArgument(where + ".unarchive: '" + a.unarchive.substr(0, 64) +
                             "' (accepted: NONE, ZIP)");
  }
  return Status::Ok();
}

Result<std::string> Str(const Json& j, const char* field, const std::string& where) {
  auto it = j.find(field);
  if (it == j.end() || !it->is_string())
    return InvalidArgument(where + "." + field + ": missing or not a string");
  return it->get<std::string>();
}

}  // namespace

Result<std::string> CanonicalManifest(const Manifest& m) {
  VQI_RETURN_IF_ERROR(CheckManifest(m));
  std::vector<ManifestArtifact> sorted = m.artifacts;
  std::sort(sorted.begin(), sorted.end(),
            [](const ManifestArtifact& a, const ManifestArtifact& b) { return a.name < b.name; });
  Json artifacts = Json::array();
  for (const ManifestArtifact& a : sorted)
    artifacts.push_back(Json{{"name", a.name},
                             {"uri", a.uri},
                             {"digest", a.digest},
                             {"size", a.size},
                             {"unarchive", a.unarchive}});
  // Json objects keep their keys in a std::map: sorted by bytes at every level.
  const Json j{
      {"format", kManifestFormat},        {"component", m.component}, {"version", m.version},
      {"publisher", m.publisher},         {"key_id", m.key_id},       {"recipe", m.recipe},
      {"artifacts", std::move(artifacts)}};
  std::string bytes;
  try {
    bytes = j.dump(-1, ' ', false, Json::error_handler_t::strict);
  } catch (const Json::exception& e) {
    return InvalidArgument(std::string("manifest: cannot be written as JSON: ") + e.what());
  }
  // Stability: reading the bytes back and writing them again must give the same bytes
  // (catches non-finite numbers, which JSON cannot hold).
  auto back = ParseJson(bytes, "manifest");
  if (!back.ok() || *back != j || back->dump() != bytes)
    return InvalidArgument(
        "manifest: the recipe holds a value JSON cannot represent exactly "
        "(a non-finite number?)");
  return bytes;
}

Result<Manifest> ParseManifest(std::string_view bytes) {
  VQI_ASSIGN_OR_RETURN(Json j, ParseJson(bytes, "manifest"));
  if (!j.is_object()) return InvalidArgument("manifest: not a JSON object");
  VQI_ASSIGN_OR_RETURN(std::string format, Str(j, "format", "manifest"));
  if (format != kManifestFormat)
    return InvalidArgument("manifest.format: '" + format.substr(0, 64) + "' is not '" +
                           std::string(kManifestFormat) + "' (a format this program knows)");
  Manifest m;
  VQI_ASSIGN_OR_RETURN(m.component, Str(j, "component", "manifest"));
  VQI_ASSIGN_OR_RETURN(m.version, Str(j, "version", "manifest"));
  VQI_ASSIGN_OR_RETURN(m.publisher, Str(j, "publisher", "manifest"));
  VQI_ASSIGN_OR_RETURN(m.key_id, Str(j, "key_id", "manifest"));
  if (!j.contains("recipe")) return InvalidArgument("manifest.recipe: missing");
  m.recipe = j["recipe"];
  if (!j.contains("artifacts") || !j["artifacts"].is_array())
    return InvalidArgument("manifest.artifacts: missing or not an array");
  for (size_t i = 0; i < j["artifacts"].size(); ++i) {
    const Json& a = j["artifacts"][i];
    const std::string where = "manifest.artifacts[" + std::to_string(i) + "]";
    if (!a.is_object()) return InvalidArgument(where + ": not an object");
    ManifestArtifact art;
    VQI_ASSIGN_OR_RETURN(art.name, Str(a, "name", where));
    VQI_ASSIGN_OR_RETURN(art.uri, Str(a, "uri", where));
    VQI_ASSIGN_OR_RETURN(art.digest, Str(a, "digest", where));
    VQI_ASSIGN_OR_RETURN(art.unarchive, Str(a, "unarchive", where));
    if (!a.contains("size") || !a["size"].is_number_integer())
      return InvalidArgument(where + ".size: missing or not an integer");
    art.size = a["size"].get<int64_t>();
    m.artifacts.push_back(std::move(art));
  }
  VQI_ASSIGN_OR_RETURN(std::string canonical, CanonicalManifest(m));
  if (canonical != bytes)
    return InvalidArgument("manifest: not in canonical form (docs/design/signing.md)");
  return m;
}

Result<SignedManifest> SignManifest(const KeyStore& keys, const std::string& key_name,
                                    Manifest manifest) {
  VQI_ASSIGN_OR_RETURN(PublicKey pub, keys.Public(key_name));
  manifest.key_id = pub.key_id;
  SignedManifest out;
  VQI_ASSIGN_OR_RETURN(out.bytes, CanonicalManifest(manifest));
  VQI_ASSIGN_OR_RETURN(out.signature, keys.Sign(key_name, out.bytes));
  // The public file and the secret file of the key must agree, or the manifest would name a
  // key that did not sign it.
  if (Status st = VerifySignature(manifest, out.signature, TrustedKeys{{pub.key_id, pub}});
      !st.ok())
    return DataLoss("key '" + key_name + "': its secret key does not match its public key file (" +
                    st.message() + ")");
  out.manifest = std::move(manifest);
  return out;
}

}  // namespace vqi::signing
