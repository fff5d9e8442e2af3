// IPC authorization (vqi/agent/ipc_access.h).
#include "vqi/agent/ipc_access.h"

#include <fnmatch.h>

#include <string>
#include <vector>

namespace vqi::agent::ipc_access {
namespace {

std::vector<std::string_view> Levels(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    const size_t slash = s.find('/', start);
    out.push_back(s.substr(start, slash == std::string_view::npos ? s.npos : slash - start));
    if (slash == std::string_view::npos) return out;
    start = slash + 1;
  }
}

bool Glob(std::string_view pattern, std::string_view value) {
  const std::string p(pattern), v(value);
  return ::fnmatch(p.c_str(), v.c_str(), 0) == 0;
}

constexpr std::string_view kThingVariable = "{iot:thingName}";

// Greengrass (nucleus ≥ 2.6) substitutes {iot:thingName} in authorization policy resources.
std::string WithThing(std::string r, std::string_view thing) {
  if (thing.empty()) return r;  // no thing known: the variable stays literal and matches nothing
  for (size_t at = r.find(kThingVariable); at != std::string::npos;
       at = r.find(kThingVariable, at + thing.size()))
    r.replace(at, kThingVariable.size(), thing);
  return r;
}

bool ListHas(const Json& list, std::string_view want, bool mqtt, std::string_view thing) {
  if (!list.is_array()) return false;
  for (const auto& item : list) {
    if (!item.is_string()) continue;
    const std::string r = WithThing(item.get<std::string>(), thing);
    if (r == "*" || r == want) return true;
    if (mqtt && MqttFilterMatches(r, want)) return true;
    if (r.find('*') != std::string::npos && Glob(r, want)) return true;
  }
  return false;
}

}  // namespace

bool MqttFilterMatches(std::string_view filter, std::string_view topic) {
  const auto f = Levels(filter), t = Levels(topic);
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] == "#") return i + 1 == f.size();
    if (i >= t.size()) return false;
    if (f[i] != "+" && f[i] != t[i]) return false;
  }
  return f.size() == t.size();
}

bool Allowed(const Json& access_control, std::string_view service, std::string_view operation,
             std::string_view resource, std::string_view thing) {
  if (!access_control.is_object()) return false;
  auto svc = access_control.find(std::string(service));
  if (svc == access_control.end() || !svc->is_object()) return false;
  const bool mqtt = service == kMqttProxy;
  for (const auto& [id, policy] : svc->items()) {
    if (!policy.is_object()) continue;
    if (!ListHas(policy.value("operations", Json()), operation, false, "")) continue;
    if (ListHas(policy.value("resources", Json()), resource, mqtt, thing)) return true;
  }
  return false;
}

}  // namespace vqi::agent::ipc_access
