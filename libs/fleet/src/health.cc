#include "vqi/fleet/health.h"

#include <limits>

#include "json_fields.h"
#include "vqi/base/json.h"
#include "vqi/fleet/desired_state.h"

namespace vqi::fleet {

using namespace internal;  // NOLINT

std::string HealthReportToJson(const HealthReport& r) {
  Json comps = Json::object();
  for (const auto& [name, c] : r.components)
    comps[name] = {{"version", c.version}, {"state", c.state}};
  Json doc{{"schema", kHealthSchema},
           {"thing", r.thing},
           {"at", r.at},
           {"uptimeSeconds", r.uptime_seconds},
           {"components", comps}};
  Json transfer = Json::object();
  if (r.bytes_downloaded) transfer["bytesDownloaded"] = *r.bytes_downloaded;
  if (r.bytes_from_cache) transfer["bytesFromCache"] = *r.bytes_from_cache;
  if (!transfer.empty()) doc["transfer"] = transfer;
  if (r.pss_kb) doc["pssKb"] = *r.pss_kb;
  return doc.dump();
}

Result<HealthReport> ParseHealthReport(std::string_view text, std::string_view sender) {
  if (text.size() > kMaxHealthBytes)
    return ResourceExhausted("heartbeat: " + std::to_string(text.size()) +
                             " bytes, more than the maximum of " + std::to_string(kMaxHealthBytes) +
                             " (docs/limits.md, Fleet)");
  VQI_ASSIGN_OR_RETURN(Json doc, ParseJson(text, "heartbeat", 8));
  VQI_RETURN_IF_ERROR(ExpectObject(doc, "heartbeat"));
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  HealthReport r;
  VQI_ASSIGN_OR_RETURN(std::string schema, GetString(doc, "", "schema", true));
  if (schema != kHealthSchema)
    return InvalidArgument("heartbeat: schema '" + schema.substr(0, 64) + "' is not " +
                           std::string(kHealthSchema));
  VQI_ASSIGN_OR_RETURN(r.thing, GetString(doc, "", "thing", true));
  VQI_RETURN_IF_ERROR(ValidateThingName(r.thing, "heartbeat: thing"));
  if (r.thing != sender)
    return PermissionDenied("heartbeat: thing '" + r.thing + "' is not the sender '" +
                            std::string(sender.substr(0, 128)) + "'");
  VQI_ASSIGN_OR_RETURN(r.at, GetString(doc, "", "at", false));
  if (r.at.size() > 64) return InvalidArgument("heartbeat: at: longer than 64 bytes");
  VQI_ASSIGN_OR_RETURN(r.uptime_seconds, GetInt(doc, "", "uptimeSeconds", false, 0, 0, kMax));
  if (auto it = doc.find("components"); it != doc.end()) {
    VQI_RETURN_IF_ERROR(ExpectObject(*it, "components"));
    if (it->size() > kMaxHealthComponents)
      return ResourceExhausted("heartbeat: components: " + std::to_string(it->size()) +
                               " components, more than the maximum of " +
                               std::to_string(kMaxHealthComponents));
    for (auto c = it->begin(); c != it->end(); ++c) {
      const std::string path = "components." + c.key().substr(0, 128);
      if (c.key().empty() || c.key().size() > 256)
        return InvalidArgument("heartbeat: " + path + ": component name must be 1-256 bytes");
      VQI_RETURN_IF_ERROR(ExpectObject(*c, path));
      ComponentReport cr;
      VQI_ASSIGN_OR_RETURN(cr.version, GetString(*c, path, "version", false));
      if (cr.version.size() > 128) return InvalidArgument(path + ".version: longer than 128");
      // "" (or absent) = the device does not know yet; anything else must be a Greengrass state.
      VQI_ASSIGN_OR_RETURN(cr.state, GetString(*c, path, "state", false));
      if (!cr.state.empty())
        VQI_RETURN_IF_ERROR(ValidateComponentState(cr.state).WithContext(path + ".state"));
      r.components[c.key()] = cr;
    }
  }
  if (auto it = doc.find("transfer"); it != doc.end()) {
    VQI_RETURN_IF_ERROR(ExpectObject(*it, "transfer"));
    if (it->contains("bytesDownloaded")) {
      VQI_ASSIGN_OR_RETURN(int64_t v, GetInt(*it, "transfer", "bytesDownloaded", true, 0, 0, kMax));
      r.bytes_downloaded = v;
    }
    if (it->contains("bytesFromCache")) {
      VQI_ASSIGN_OR_RETURN(int64_t v, GetInt(*it, "transfer", "bytesFromCache", true, 0, 0, kMax));
      r.bytes_from_cache = v;
    }
  }
  if (doc.contains("pssKb")) {
    VQI_ASSIGN_OR_RETURN(int64_t v, GetInt(doc, "", "pssKb", true, 0, 0, kMax));
    r.pss_kb = v;
  }
  return r;
}

}  // namespace vqi::fleet
