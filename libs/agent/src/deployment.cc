#include "vqi/agent/deployment.h"

#include <set>

#include "vqi/component/recipe.h"

namespace vqi::agent {
namespace {

Status Bad(std::string_view origin, const std::string& path, const std::string& what) {
  return InvalidArgument(std::string(origin) + ": " + path + ": " + what);
}

Status OnlyKeys(const Json& obj, const std::set<std::string>& keys, std::string_view origin,
                const std::string& path) {
  for (const auto& [k, v] : obj.items()) {
    if (keys.count(k)) continue;
    std::string list;
    for (const auto& a : keys) list += (list.empty() ? "" : ", ") + a;
    return Bad(origin, path.empty() ? k : path + "." + k, "unknown key (accepted: " + list + ")");
  }
  return Status::Ok();
}

Result<ConfigurationUpdate> ParseUpdate(const Json& u, std::string_view origin,
                                        const std::string& path) {
  if (!u.is_object()) return Bad(origin, path, "must be an object with merge and/or reset");
  VQI_RETURN_IF_ERROR(OnlyKeys(u, {"merge", "reset"}, origin, path));
  ConfigurationUpdate out;
  if (u.contains("merge")) {
    const Json& m = u["merge"];
    if (!m.is_string())
      return Bad(origin, path + ".merge", "must be a string holding a JSON object");
    auto parsed = ParseJson(m.get<std::string>(), std::string(origin) + ": " + path + ".merge");
    if (!parsed.ok()) return parsed.status();
    if (!parsed->is_object())
      return Bad(origin, path + ".merge", "must be a string holding a JSON object");
    out.merge = std::move(*parsed);
  }
  if (u.contains("reset")) {
    const Json& r = u["reset"];
    if (!r.is_array()) return Bad(origin, path + ".reset", "must be a list of JSON pointers");
    for (size_t i = 0; i < r.size(); ++i) {
      const std::string p = path + ".reset[" + std::to_string(i) + "]";
      if (!r[i].is_string()) return Bad(origin, p, "must be a JSON pointer string");
      const std::string ptr = r[i].get<std::string>();
      try {
        (void)Json::json_pointer(ptr);
      } catch (const std::exception&) {
        return Bad(origin, p, "'" + ptr + "' is not a JSON pointer (\"\" or \"/a/b\")");
      }
      out.reset.push_back(ptr);
    }
  }
  return out;
}

Json UpdateToJson(const ConfigurationUpdate& u) {
  Json j = Json::object();
  if (u.merge) j["merge"] = u.merge->dump();
  if (!u.reset.empty()) j["reset"] = u.reset;
  return j;
}

}  // namespace

const char* FailurePolicyName(FailurePolicy p) {
  return p == FailurePolicy::kRollback ? "ROLLBACK" : "DO_NOTHING";
}

Status ValidateDeploymentId(std::string_view id) {
  bool ok = !id.empty() && id.size() <= 64 && id[0] != '.';
  for (char c : id)
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
  if (!ok)
    return InvalidArgument("deployment id '" + std::string(id) +
                           "' must be 1-64 characters of A-Z a-z 0-9 . _ - not starting with '.'");
  return Status::Ok();
}

Result<Deployment> ParseCreateDeployment(const Json& doc, std::string_view origin) {
  if (!doc.is_object()) return Bad(origin, "(document)", "must be a JSON object");
  VQI_RETURN_IF_ERROR(OnlyKeys(doc,
                               {"targetArn", "deploymentName", "components", "deploymentPolicies",
                                "iotJobConfiguration", "tags", "parentTargetArn", "clientToken"},
                               origin, ""));
  Deployment d;
  if (!doc.contains("components") || !doc["components"].is_object() || doc["components"].empty())
    return Bad(origin, "components", "must be an object naming at least one component");
  for (const auto& [name, c] : doc["components"].items()) {
    const std::string path = "components." + name;
    if (!c.is_object()) return Bad(origin, path, "must be an object with componentVersion");
    VQI_RETURN_IF_ERROR(
        OnlyKeys(c, {"componentVersion", "configurationUpdate", "runWith"}, origin, path));
    if (!c.contains("componentVersion") || !c["componentVersion"].is_string())
      return Bad(origin, path + ".componentVersion", "required, a version string like \"1.0.0\"");
    if (c.contains("runWith"))
      return Bad(origin, path + ".runWith", "not supported yet (use the agent's --user)");
    DeploymentComponent dc;
    dc.version = c["componentVersion"].get<std::string>();
    if (c.contains("configurationUpdate")) {
      VQI_ASSIGN_OR_RETURN(
          dc.update, ParseUpdate(c["configurationUpdate"], origin, path + ".configurationUpdate"));
    }
    d.components.emplace(name, std::move(dc));
  }
  if (doc.contains("deploymentPolicies")) {
    const Json& p = doc["deploymentPolicies"];
    if (!p.is_object()) return Bad(origin, "deploymentPolicies", "must be an object");
    VQI_RETURN_IF_ERROR(OnlyKeys(
        p, {"failureHandlingPolicy", "componentUpdatePolicy", "configurationValidationPolicy"},
        origin, "deploymentPolicies"));
    if (p.contains("failureHandlingPolicy")) {
      const Json& f = p["failureHandlingPolicy"];
      if (f == "ROLLBACK")
        d.policy = FailurePolicy::kRollback;
      else if (f == "DO_NOTHING")
        d.policy = FailurePolicy::kDoNothing;
      else
        return Bad(origin, "deploymentPolicies.failureHandlingPolicy",
                   "must be ROLLBACK or DO_NOTHING, not " + f.dump());
    }
  }
  return d;
}

Json DeploymentToJson(const Deployment& d) {
  Json comps = Json::object();
  for (const auto& [name, c] : d.components)
    comps[name] = {{"version", c.version}, {"configurationUpdate", UpdateToJson(c.update)}};
  Json out{{"deploymentId", d.id},
           {"sequence", d.sequence},
           {"components", comps},
           {"failureHandlingPolicy", FailurePolicyName(d.policy)}};
  if (d.shadow)
    out["shadow"] = {{"component", d.shadow->component}, {"version", d.shadow->version}};
  return out;
}

Result<Deployment> DeploymentFromJson(const Json& doc, std::string_view origin) {
  try {
    Deployment d;
    d.id = doc.at("deploymentId").get<std::string>();
    VQI_RETURN_IF_ERROR(ValidateDeploymentId(d.id));
    d.sequence = doc.at("sequence").get<uint64_t>();
    const std::string pol = doc.at("failureHandlingPolicy").get<std::string>();
    if (pol != "ROLLBACK" && pol != "DO_NOTHING")
      return Bad(origin, "failureHandlingPolicy", "must be ROLLBACK or DO_NOTHING");
    d.policy = pol == "ROLLBACK" ? FailurePolicy::kRollback : FailurePolicy::kDoNothing;
    for (const auto& [name, c] : doc.at("components").items()) {
      DeploymentComponent dc;
      dc.version = c.at("version").get<std::string>();
      if (c.contains("configurationUpdate")) {
        VQI_ASSIGN_OR_RETURN(dc.update, ParseUpdate(c["configurationUpdate"], origin,
                                                    "components." + name + ".configurationUpdate"));
      }
      d.components.emplace(name, std::move(dc));
    }
    if (doc.contains("shadow")) {
      ShadowRef sh{doc["shadow"].at("component").get<std::string>(),
                   doc["shadow"].at("version").get<std::string>()};
      if (Status st = component::ValidateComponentName(sh.component); !st.ok())
        return Bad(origin, "shadow.component", st.message());
      if (Status st = component::ValidateVersionField(sh.version); !st.ok())
        return Bad(origin, "shadow.version", st.message());
      d.shadow = sh;
    }
    return d;
  } catch (const Json::exception& e) {
    return InvalidArgument(std::string(origin) + ": not a queued deployment: " + e.what());
  }
}

}  // namespace vqi::agent
