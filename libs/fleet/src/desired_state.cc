#include "vqi/fleet/desired_state.h"

#include "json_fields.h"
#include "vqi/base/json.h"

namespace vqi::fleet {

using namespace internal;  // NOLINT

Status ValidateThingName(std::string_view name, std::string_view what) {
  auto bad = [&](const std::string& why) {
    std::string shown(name.substr(0, 64));
    return InvalidArgument(std::string(what) + " '" + shown + "': " + why +
                           " (accepted: [A-Za-z0-9][A-Za-z0-9._-]{0,127})");
  };
  if (name.empty()) return bad("empty");
  if (name.size() > 128) return bad("longer than 128 bytes");
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (i == 0 && !alnum) return bad("must start with a letter or digit");
    if (!alnum && c != '.' && c != '_' && c != '-')
      return bad("character " + std::to_string(i + 1) + " is not allowed");
  }
  return Status::Ok();
}

Status ValidateJsonPointer(std::string_view p) {
  if (p.empty()) return Status::Ok();
  if (p[0] != '/')
    return InvalidArgument("'" + std::string(p.substr(0, 64)) +
                           "' is not a JSON pointer (RFC 6901: must be empty or start with '/')");
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] == '~' && (i + 1 == p.size() || (p[i + 1] != '0' && p[i + 1] != '1')))
      return InvalidArgument("'" + std::string(p.substr(0, 64)) +
                             "' is not a JSON pointer (RFC 6901: '~' must be followed by 0 or 1)");
  return Status::Ok();
}

std::string DesiredStateToJson(const DesiredState& s) {
  Json comps = Json::object();
  for (const auto& [name, c] : s.components) {
    Json j{{"version", c.version}};
    if (c.configuration_update) {
      Json cu = Json::object();
      if (c.configuration_update->merge) cu["merge"] = *c.configuration_update->merge;
      cu["reset"] = c.configuration_update->reset;
      j["configurationUpdate"] = cu;
    }
    comps[name] = j;
  }
  Json doc{{"schema", kDesiredSchema},
           {"thing", s.thing},
           {"deploymentId", s.deployment_id},
           {"sequence", s.sequence},
           {"components", comps},
           {"failureHandlingPolicy", s.failure_handling_policy},
           {"componentUpdatePolicy",
            {{"timeoutInSeconds", s.component_update_timeout_seconds},
             {"action", s.component_update_action}}},
           {"timeouts",
            {{"configurationValidationSeconds", s.configuration_validation_timeout_seconds}}}};
  if (s.kpi) doc["kpi"] = {{"metric", s.kpi->metric}, {"window", s.kpi->window}};
  if (s.shadow)
    doc["shadow"] = {{"component", s.shadow->component}, {"version", s.shadow->version}};
  return doc.dump();
}

namespace {

Result<ConfigurationUpdate> ParseUpdate(const Json& j, const std::string& path) {
  VQI_RETURN_IF_ERROR(ExpectObject(j, path));
  VQI_RETURN_IF_ERROR(RefuseUnknown(j, path, {"merge", "reset"}));
  ConfigurationUpdate u;
  if (j.contains("merge")) {
    VQI_ASSIGN_OR_RETURN(std::string m, GetString(j, path, "merge", true));
    u.merge = m;
  }
  if (j.contains("reset")) {
    const Json& r = j["reset"];
    if (!r.is_array()) return InvalidArgument(Join(path, "reset") + ": not a JSON array");
    for (size_t i = 0; i < r.size(); ++i) {
      const std::string at = Join(path, "reset") + "[" + std::to_string(i) + "]";
      if (!r[i].is_string()) return InvalidArgument(at + ": not a JSON string");
      Status st = ValidateJsonPointer(r[i].get<std::string>());
      if (!st.ok()) return InvalidArgument(at + ": " + st.message());
      u.reset.push_back(r[i].get<std::string>());
    }
  }
  return u;
}

}  // namespace

Result<DesiredState> ParseDesiredState(std::string_view text, std::string_view expected_thing) {
  if (text.size() > kMaxDesiredBytes)
    return ResourceExhausted("desired state: " + std::to_string(text.size()) +
                             " bytes, more than the maximum of " +
                             std::to_string(kMaxDesiredBytes) + " (docs/limits.md, Fleet)");
  VQI_ASSIGN_OR_RETURN(Json doc, ParseJson(text, "desired state", 16));
  VQI_RETURN_IF_ERROR(ExpectObject(doc, ""));
  VQI_RETURN_IF_ERROR(RefuseUnknown(
      doc, "",
      {"schema", "thing", "deploymentId", "sequence", "components", "failureHandlingPolicy",
       "componentUpdatePolicy", "timeouts", "kpi", "shadow"}));
  VQI_ASSIGN_OR_RETURN(std::string schema, GetString(doc, "", "schema", true));
  if (schema != kDesiredSchema)
    return InvalidArgument("schema: '" + schema.substr(0, 64) + "' is not " +
                           std::string(kDesiredSchema));
  DesiredState s;
  VQI_ASSIGN_OR_RETURN(s.thing, GetString(doc, "", "thing", true));
  VQI_RETURN_IF_ERROR(ValidateThingName(s.thing, "thing"));
  if (!expected_thing.empty() && s.thing != expected_thing)
    return PermissionDenied("thing: '" + s.thing + "' is not this device ('" +
                            std::string(expected_thing) + "')");
  VQI_ASSIGN_OR_RETURN(s.deployment_id, GetString(doc, "", "deploymentId", true));
  VQI_ASSIGN_OR_RETURN(s.sequence, GetInt(doc, "", "sequence", true, 0, 1, INT64_MAX));
  auto it = doc.find("components");
  if (it == doc.end()) return InvalidArgument("components: missing");
  VQI_RETURN_IF_ERROR(ExpectObject(*it, "components"));
  for (auto c = it->begin(); c != it->end(); ++c) {
    const std::string path = "components." + c.key();
    VQI_RETURN_IF_ERROR(ExpectObject(c.value(), path));
    VQI_RETURN_IF_ERROR(RefuseUnknown(c.value(), path, {"version", "configurationUpdate"}));
    DesiredComponent dc;
    VQI_ASSIGN_OR_RETURN(dc.version, GetString(c.value(), path, "version", true));
    if (c.value().contains("configurationUpdate")) {
      VQI_ASSIGN_OR_RETURN(ConfigurationUpdate u, ParseUpdate(c.value()["configurationUpdate"],
                                                              path + ".configurationUpdate"));
      dc.configuration_update = u;
    }
    s.components[c.key()] = dc;
  }
  VQI_ASSIGN_OR_RETURN(
      s.failure_handling_policy,
      GetEnum(doc, "", "failureHandlingPolicy", {"ROLLBACK", "DO_NOTHING"}, false, "ROLLBACK"));
  if (auto p = doc.find("componentUpdatePolicy"); p != doc.end()) {
    VQI_RETURN_IF_ERROR(ExpectObject(*p, "componentUpdatePolicy"));
    VQI_RETURN_IF_ERROR(RefuseUnknown(*p, "componentUpdatePolicy", {"timeoutInSeconds", "action"}));
    VQI_ASSIGN_OR_RETURN(
        s.component_update_timeout_seconds,
        GetInt(*p, "componentUpdatePolicy", "timeoutInSeconds", false, 60, 1, 86400 * 30));
    VQI_ASSIGN_OR_RETURN(
        s.component_update_action,
        GetEnum(*p, "componentUpdatePolicy", "action",
                {"NOTIFY_COMPONENTS", "SKIP_NOTIFY_COMPONENTS"}, false, "NOTIFY_COMPONENTS"));
  }
  if (auto t = doc.find("timeouts"); t != doc.end()) {
    VQI_RETURN_IF_ERROR(ExpectObject(*t, "timeouts"));
    VQI_RETURN_IF_ERROR(RefuseUnknown(*t, "timeouts", {"configurationValidationSeconds"}));
    VQI_ASSIGN_OR_RETURN(
        s.configuration_validation_timeout_seconds,
        GetInt(*t, "timeouts", "configurationValidationSeconds", false, 30, 1, 86400 * 30));
  }
  if (auto k = doc.find("kpi"); k != doc.end()) {
    VQI_RETURN_IF_ERROR(ExpectObject(*k, "kpi"));
    VQI_RETURN_IF_ERROR(RefuseUnknown(*k, "kpi", {"metric", "window"}));
    KpiSpec spec;
    VQI_ASSIGN_OR_RETURN(spec.metric, GetString(*k, "kpi", "metric", true));
    if (spec.metric.empty() || spec.metric.size() > 128)
      return InvalidArgument("kpi.metric: must be 1-128 bytes");
    VQI_ASSIGN_OR_RETURN(spec.window, GetInt(*k, "kpi", "window", false, 200, 1, 100000));
    s.kpi = spec;
  }
  if (auto k = doc.find("shadow"); k != doc.end()) {
    VQI_RETURN_IF_ERROR(ExpectObject(*k, "shadow"));
    VQI_RETURN_IF_ERROR(RefuseUnknown(*k, "shadow", {"component", "version"}));
    ShadowSpec spec;
    VQI_ASSIGN_OR_RETURN(spec.component, GetString(*k, "shadow", "component", true));
    VQI_ASSIGN_OR_RETURN(spec.version, GetString(*k, "shadow", "version", true));
    if (!s.components.count(spec.component))
      return InvalidArgument("shadow.component: '" + spec.component.substr(0, 128) +
                             "' is not one of components");
    if (spec.version.empty() || spec.version.size() > 64)
      return InvalidArgument("shadow.version: must be 1-64 bytes");
    s.shadow = spec;
  }
  return s;
}

}  // namespace vqi::fleet
