// FetchSetupFromBundle (fetch_bundle.h).
#include "vqi/agent/fetch_bundle.h"

#include <filesystem>

#include "vqi/base/file.h"
#include "vqi/base/json.h"

namespace vqi::agent {

Result<FetchSetup> FetchSetupFromBundle(const std::string& bundle_dir, const std::string& root) {
  std::error_code ec;
  if (!std::filesystem::is_directory(bundle_dir, ec))
    return NotFound("agent bundle " + bundle_dir + " is not a folder");
  const std::string file = bundle_dir + "/agent.json";
  auto text = ReadFile(file, kMaxAgentJsonBytes);
  if (!text.ok()) return InvalidArgument("agent bundle: " + text.status().message());
  VQI_ASSIGN_OR_RETURN(Json j, ParseJson(*text, file));
  if (!j.is_object()) return InvalidArgument(file + ": must be a JSON object");
  auto str = [&](const char* key, bool required) -> Result<std::string> {
    if (!j.contains(key)) {
      if (required) return InvalidArgument(file + ": " + key + ": missing (a string is required)");
      return std::string();
    }
    if (!j[key].is_string() || (required && j[key].get<std::string>().empty()))
      return InvalidArgument(file + ": " + key + ": must be a non-empty string");
    return j[key].get<std::string>();
  };
  FetchSetup s;
  VQI_ASSIGN_OR_RETURN(s.thing, str("thing", false));
  VQI_ASSIGN_OR_RETURN(s.options.http.base_url, str("server", true));
  VQI_ASSIGN_OR_RETURN(s.options.http.token, str("token", true));
  const std::string& url = s.options.http.base_url;
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    return InvalidArgument(file + ": server: '" + url + "' must start with https:// (or http://)");
  if (FileExists(bundle_dir + "/ca.pem")) s.options.http.ca_file = bundle_dir + "/ca.pem";
  if (FileExists(bundle_dir + "/cert.pem") && FileExists(bundle_dir + "/key.pem")) {
    s.options.http.client_cert_file = bundle_dir + "/cert.pem";
    s.options.http.client_key_file = bundle_dir + "/key.pem";
  }
  s.options.root = root;
  VQI_ASSIGN_OR_RETURN(s.trusted, LoadTrustedKeys(bundle_dir + "/trusted-keys"));
  return s;
}

}  // namespace vqi::agent
