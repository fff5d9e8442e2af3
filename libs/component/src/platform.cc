#include "vqi/component/platform.h"

#include <sys/utsname.h>

#include <cctype>

namespace vqi::component {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool ValueMatches(const std::string& want, const std::string& have) {
  if (want == "*") return true;
  if (want.size() >= 2 && want.front() == '/' && want.back() == '/') {
    const std::string body = want.substr(1, want.size() - 2);
    for (size_t at = 0; at <= body.size();) {
      const size_t bar = std::min(body.find('|', at), body.size());
      if (Lower(body.substr(at, bar - at)) == Lower(have)) return true;
      at = bar + 1;
    }
    return false;
  }
  return Lower(want) == Lower(have);
}

}  // namespace

bool PlatformMatches(const Platform& manifest_platform, const Platform& device) {
  for (const auto& [key, want] : manifest_platform) {
    auto it = device.find(key);
    if (it == device.end()) {
      if (want != "*") return false;
    } else if (!ValueMatches(want, it->second)) {
      return false;
    }
  }
  return true;
}

std::string PlatformToString(const Platform& p) {
  std::string out = "{";
  for (const auto& [k, v] : p) out += (out.size() > 1 ? ", " : "") + k + ": " + v;
  return out + "}";
}

Result<Manifest> SelectManifest(const Recipe& recipe, const Platform& device) {
  if (recipe.manifests.empty()) return Manifest{};
  std::string tried;
  for (size_t i = 0; i < recipe.manifests.size(); ++i) {
    const Manifest& m = recipe.manifests[i];
    if (PlatformMatches(m.platform, device)) return m;
    tried += (tried.empty() ? "" : ", ") + std::string("Manifests[") + std::to_string(i) + "] " +
             PlatformToString(m.platform);
  }
  return NotFound("no manifest of " + recipe.name + " " + recipe.version + " matches platform " +
                  PlatformToString(device) + "; the manifests' platforms: " + tried);
}

Platform HostPlatform() {
  Platform p;
  struct utsname u {};
  if (uname(&u) != 0) return p;
  p["os"] = Lower(u.sysname);
  const std::string m = u.machine;
  if (m == "x86_64" || m == "amd64")
    p["architecture"] = "amd64";
  else if (m == "aarch64" || m == "arm64")
    p["architecture"] = "aarch64";
  else if (m.rfind("arm", 0) == 0) {
    p["architecture"] = "arm";
    p["architecture.detail"] = m;
  } else if (m == "i386" || m == "i686")
    p["architecture"] = "x86";
  else
    p["architecture"] = m;
  return p;
}

}  // namespace vqi::component
