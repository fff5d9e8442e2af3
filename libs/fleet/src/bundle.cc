#include "vqi/fleet/bundle.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "vqi/base/file.h"
#include "vqi/fleet/desired_state.h"

namespace vqi::fleet {
namespace {

namespace fs = std::filesystem;

Status CheckBroker(const std::string& broker) {
  const size_t colon = broker.rfind(':');
  const std::string port = colon == std::string::npos ? "" : broker.substr(colon + 1);
  bool digits = !port.empty() && port.size() <= 5;
  for (char c : port) digits = digits && c >= '0' && c <= '9';
  if (colon == 0 || colon == std::string::npos || !digits || std::stoi(port) < 1 ||
      std::stoi(port) > 65535)
    return InvalidArgument("broker: '" + broker.substr(0, 128) +
                           "' is not host:port (port 1-65535)");
  return Status::Ok();
}

Status CheckPem(const std::string& text, const char* field) {
  if (text.rfind("-----BEGIN ", 0) != 0 || text.find("-----END ") == std::string::npos)
    return InvalidArgument(std::string(field) + ": not PEM text (-----BEGIN ... -----END ...)");
  return Status::Ok();
}

Status Check(const AgentBundle& b) {
  VQI_RETURN_IF_ERROR(ValidateThingName(b.thing, "thing"));
  VQI_RETURN_IF_ERROR(CheckBroker(b.broker));
  if (b.server.rfind("https://", 0) != 0 && b.server.rfind("http://", 0) != 0)
    return InvalidArgument("server: '" + b.server.substr(0, 128) +
                           "' is not an https:// (or http://) URL");
  if (b.token.empty()) return InvalidArgument("token: empty (a device-scope server token)");
  VQI_RETURN_IF_ERROR(CheckPem(b.ca_pem, "ca.pem"));
  VQI_RETURN_IF_ERROR(CheckPem(b.cert_pem, "cert.pem"));
  VQI_RETURN_IF_ERROR(CheckPem(b.key_pem, "key.pem"));
  for (const auto& [name, text] : b.trusted_keys) {
    VQI_RETURN_IF_ERROR(ValidateThingName(name, "trusted key name"));
    if (text.empty()) return InvalidArgument("trusted-keys/" + name + ".pub: empty");
  }
  return Status::Ok();
}

Status Chmod(const std::string& path, mode_t mode) {
  if (::chmod(path.c_str(), mode) != 0)
    return PermissionDenied(
        path + ": chmod: " + std::error_code(errno, std::generic_category()).message());
  return Status::Ok();
}

}  // namespace

Json AgentJson(const AgentBundle& b) {
  return Json{{"thing", b.thing}, {"broker", b.broker}, {"server", b.server}, {"token", b.token}};
}

Status WriteAgentBundle(const std::string& dir, const AgentBundle& b) {
  VQI_RETURN_IF_ERROR(Check(b));
  std::error_code ec;
  if (fs::exists(dir, ec))
    return AlreadyExists(dir +
                         ": already exists (a bundle holds a secret key; choose a new "
                         "folder)");
  const fs::path parent = fs::path(dir).parent_path();
  if (!parent.empty()) VQI_RETURN_IF_ERROR(MakeDirs(parent.string()));
  const std::string tmp = dir + ".tmp-" + std::to_string(::getpid());
  fs::remove_all(tmp, ec);
  if (::mkdir(tmp.c_str(), 0700) != 0)
    return Unavailable(tmp +
                       ": mkdir: " + std::error_code(errno, std::generic_category()).message());
  Status st = [&]() -> Status {
    VQI_RETURN_IF_ERROR(Chmod(tmp, 0700));
    VQI_RETURN_IF_ERROR(WriteFileAtomic(tmp + "/key.pem", b.key_pem));
    VQI_RETURN_IF_ERROR(Chmod(tmp + "/key.pem", 0600));
    VQI_RETURN_IF_ERROR(WriteFileAtomic(tmp + "/cert.pem", b.cert_pem));
    VQI_RETURN_IF_ERROR(WriteFileAtomic(tmp + "/ca.pem", b.ca_pem));
    VQI_RETURN_IF_ERROR(WriteFileAtomic(tmp + "/agent.json", AgentJson(b).dump(2) + "\n"));
    VQI_RETURN_IF_ERROR(Chmod(tmp + "/agent.json", 0600));  // holds the token
    VQI_RETURN_IF_ERROR(MakeDirs(tmp + "/trusted-keys"));
    for (const auto& [name, text] : b.trusted_keys)
      VQI_RETURN_IF_ERROR(WriteFileAtomic(tmp + "/trusted-keys/" + name + ".pub", text));
    if (::rename(tmp.c_str(), dir.c_str()) != 0)
      return Unavailable(dir +
                         ": rename: " + std::error_code(errno, std::generic_category()).message());
    return Status::Ok();
  }();
  if (!st.ok()) fs::remove_all(tmp, ec);
  return st;
}

}  // namespace vqi::fleet
