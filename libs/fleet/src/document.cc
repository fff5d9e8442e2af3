// Greengrass CreateDeployment → DeploymentDocument. Value ranges are AWS's (Greengrass v2 and
// IoT Jobs API references) so a document valid for AWS is valid here and vice versa.
#include "vqi/fleet/document.h"

#include "json_fields.h"
#include "vqi/component/recipe.h"
#include "vqi/fleet/promote_rule.h"

namespace vqi::fleet {

using namespace internal;  // NOLINT

namespace {

Result<DocumentComponent> ParseComponent(const Json& j, const std::string& path) {
  VQI_RETURN_IF_ERROR(ExpectObject(j, path));
  VQI_RETURN_IF_ERROR(
      RefuseUnknown(j, path, {"componentVersion", "configurationUpdate", "runWith"}));
  DocumentComponent c;
  VQI_ASSIGN_OR_RETURN(c.version, GetString(j, path, "componentVersion", true));
  if (Status st = component::ValidateVersionField(c.version); !st.ok())
    return InvalidArgument(path + ".componentVersion: " + st.message());
  if (auto it = j.find("configurationUpdate"); it != j.end()) {
    const std::string cp = path + ".configurationUpdate";
    VQI_RETURN_IF_ERROR(ExpectObject(*it, cp));
    VQI_RETURN_IF_ERROR(RefuseUnknown(*it, cp, {"merge", "reset"}));
    ConfigurationUpdate u;
    if (auto m = it->find("merge"); m != it->end()) {
      if (!m->is_string())
        return InvalidArgument(cp +
                               ".merge: not a JSON string (Greengrass sends the merge "
                               "document as a string holding JSON, e.g. \"{\\\"a\\\":1}\"; "
                               "got " +
                               std::string(m->type_name()) + ")");
      auto parsed = ParseJson(m->get<std::string>(), cp + ".merge", 64);
      if (!parsed.ok()) return InvalidArgument(parsed.status().message());
      if (!parsed->is_object())
        return InvalidArgument(cp + ".merge: the string must hold a JSON object (got " +
                               std::string(parsed->type_name()) + ")");
      u.merge = m->get<std::string>();
    }
    if (auto r = it->find("reset"); r != it->end()) {
      if (!r->is_array()) return InvalidArgument(cp + ".reset: not a JSON array of JSON pointers");
      for (size_t i = 0; i < r->size(); ++i) {
        const std::string at = cp + ".reset[" + std::to_string(i) + "]";
        if (!(*r)[i].is_string()) return InvalidArgument(at + ": not a JSON string");
        Status st = ValidateJsonPointer((*r)[i].get<std::string>());
        if (!st.ok()) return InvalidArgument(at + ": " + st.message());
        u.reset.push_back((*r)[i].get<std::string>());
      }
    }
    c.configuration_update = u;
  }
  if (auto it = j.find("runWith"); it != j.end()) {
    VQI_RETURN_IF_ERROR(ExpectObject(*it, path + ".runWith"));
    VQI_RETURN_IF_ERROR(RefuseUnknown(*it, path + ".runWith",
                                      {"posixUser", "systemResourceLimits", "windowsUser"}));
    c.run_with = *it;
  }
  return c;
}

Status ParsePolicies(const Json& j, DeploymentDocument& d) {
  const std::string p = "deploymentPolicies";
  VQI_RETURN_IF_ERROR(ExpectObject(j, p));
  VQI_RETURN_IF_ERROR(RefuseUnknown(
      j, p, {"failureHandlingPolicy", "componentUpdatePolicy", "configurationValidationPolicy"}));
  VQI_ASSIGN_OR_RETURN(
      d.failure_handling_policy,
      GetEnum(j, p, "failureHandlingPolicy", {"ROLLBACK", "DO_NOTHING"}, false, "ROLLBACK"));
  if (auto it = j.find("componentUpdatePolicy"); it != j.end()) {
    const std::string cp = p + ".componentUpdatePolicy";
    VQI_RETURN_IF_ERROR(ExpectObject(*it, cp));
    VQI_RETURN_IF_ERROR(RefuseUnknown(*it, cp, {"timeoutInSeconds", "action"}));
    VQI_ASSIGN_OR_RETURN(d.component_update_timeout_seconds,
                         GetInt(*it, cp, "timeoutInSeconds", false, 60, 1, 2592000));
    VQI_ASSIGN_OR_RETURN(d.component_update_action,
                         GetEnum(*it, cp, "action", {"NOTIFY_COMPONENTS", "SKIP_NOTIFY_COMPONENTS"},
                                 false, "NOTIFY_COMPONENTS"));
  }
  if (auto it = j.find("configurationValidationPolicy"); it != j.end()) {
    const std::string cp = p + ".configurationValidationPolicy";
    VQI_RETURN_IF_ERROR(ExpectObject(*it, cp));
    VQI_RETURN_IF_ERROR(RefuseUnknown(*it, cp, {"timeoutInSeconds"}));
    VQI_ASSIGN_OR_RETURN(d.configuration_validation_timeout_seconds,
                         GetInt(*it, cp, "timeoutInSeconds", false, 30, 1, 2592000));
  }
  return Status::Ok();
}

Status ParseJobConfig(const Json& j, RolloutConfig& r) {
  const std::string p = "iotJobConfiguration";
  VQI_RETURN_IF_ERROR(ExpectObject(j, p));
  VQI_RETURN_IF_ERROR(
      RefuseUnknown(j, p, {"jobExecutionsRolloutConfig", "abortConfig", "timeoutConfig"}));
  if (auto it = j.find("jobExecutionsRolloutConfig"); it != j.end()) {
    const std::string rp = p + ".jobExecutionsRolloutConfig";
    VQI_RETURN_IF_ERROR(ExpectObject(*it, rp));
    VQI_RETURN_IF_ERROR(RefuseUnknown(*it, rp, {"exponentialRate", "maximumPerMinute"}));
    VQI_ASSIGN_OR_RETURN(r.maximum_per_minute,
                         GetInt(*it, rp, "maximumPerMinute", false, 1000, 1, 1000));
    r.base_rate_per_minute = r.maximum_per_minute;
    if (auto e = it->find("exponentialRate"); e != it->end()) {
      const std::string ep = rp + ".exponentialRate";
      VQI_RETURN_IF_ERROR(ExpectObject(*e, ep));
      VQI_RETURN_IF_ERROR(
          RefuseUnknown(*e, ep, {"baseRatePerMinute", "incrementFactor", "rateIncreaseCriteria"}));
      r.exponential = true;
      VQI_ASSIGN_OR_RETURN(r.base_rate_per_minute,
                           GetInt(*e, ep, "baseRatePerMinute", true, 0, 1, 1000));
      VQI_ASSIGN_OR_RETURN(r.increment_factor,
                           GetNumber(*e, ep, "incrementFactor", true, 1, 1.1, 5));
      auto c = e->find("rateIncreaseCriteria");
      if (c == e->end()) return InvalidArgument(ep + ".rateIncreaseCriteria: missing");
      const std::string cp = ep + ".rateIncreaseCriteria";
      VQI_RETURN_IF_ERROR(ExpectObject(*c, cp));
      VQI_RETURN_IF_ERROR(
          RefuseUnknown(*c, cp, {"numberOfNotifiedThings", "numberOfSucceededThings"}));
      VQI_ASSIGN_OR_RETURN(r.criteria.notified_things,
                           GetInt(*c, cp, "numberOfNotifiedThings", false, 0, 1, INT32_MAX));
      VQI_ASSIGN_OR_RETURN(r.criteria.succeeded_things,
                           GetInt(*c, cp, "numberOfSucceededThings", false, 0, 1, INT32_MAX));
      if ((r.criteria.notified_things > 0) == (r.criteria.succeeded_things > 0))
        return InvalidArgument(cp +
                               ": give exactly one of numberOfNotifiedThings, "
                               "numberOfSucceededThings");
      if (r.base_rate_per_minute > r.maximum_per_minute)
        return InvalidArgument(
            ep + ".baseRatePerMinute: " + std::to_string(r.base_rate_per_minute) +
            " is above maximumPerMinute " + std::to_string(r.maximum_per_minute));
    }
  }
  if (auto it = j.find("abortConfig"); it != j.end()) {
    const std::string ap = p + ".abortConfig";
    VQI_RETURN_IF_ERROR(ExpectObject(*it, ap));
    VQI_RETURN_IF_ERROR(RefuseUnknown(*it, ap, {"criteriaList"}));
    auto l = it->find("criteriaList");
    if (l == it->end() || !l->is_array() || l->empty())
      return InvalidArgument(ap + ".criteriaList: must be a non-empty JSON array");
    if (l->size() > kMaxAbortCriteria)
      return ResourceExhausted(ap + ".criteriaList: more than " +
                               std::to_string(kMaxAbortCriteria) + " criteria (docs/limits.md)");
    for (size_t i = 0; i < l->size(); ++i) {
      const std::string cp = ap + ".criteriaList[" + std::to_string(i) + "]";
      const Json& c = (*l)[i];
      VQI_RETURN_IF_ERROR(ExpectObject(c, cp));
      VQI_RETURN_IF_ERROR(RefuseUnknown(
          c, cp, {"failureType", "action", "thresholdPercentage", "minNumberOfExecutedThings"}));
      AbortCriterion a;
      VQI_ASSIGN_OR_RETURN(
          a.failure_type,
          GetEnum(c, cp, "failureType", {"FAILED", "REJECTED", "TIMED_OUT", "ALL"}, true, ""));
      VQI_ASSIGN_OR_RETURN(a.action, GetEnum(c, cp, "action", {"CANCEL"}, true, ""));
      VQI_ASSIGN_OR_RETURN(a.threshold_percentage,
                           GetNumber(c, cp, "thresholdPercentage", true, 0, 0, 100));
      VQI_ASSIGN_OR_RETURN(a.min_executed_things,
                           GetInt(c, cp, "minNumberOfExecutedThings", true, 1, 1, INT32_MAX));
      r.abort.push_back(a);
    }
  }
  if (auto it = j.find("timeoutConfig"); it != j.end()) {
    const std::string tp = p + ".timeoutConfig";
    VQI_RETURN_IF_ERROR(ExpectObject(*it, tp));
    VQI_RETURN_IF_ERROR(RefuseUnknown(*it, tp, {"inProgressTimeoutInMinutes"}));
    VQI_ASSIGN_OR_RETURN(r.in_progress_timeout_minutes,
                         GetInt(*it, tp, "inProgressTimeoutInMinutes", false, 0, 1, 10080));
  }
  return Status::Ok();
}

Status ParseVqiRollout(const Json& j, RolloutConfig& r) {
  const std::string p = "vqiRolloutConfig";
  VQI_RETURN_IF_ERROR(ExpectObject(j, p));
  VQI_RETURN_IF_ERROR(RefuseUnknown(j, p, {"kpi"}));
  auto it = j.find("kpi");
  if (it == j.end()) return Status::Ok();
  const std::string kp = p + ".kpi";
  VQI_RETURN_IF_ERROR(ExpectObject(*it, kp));
  VQI_RETURN_IF_ERROR(RefuseUnknown(
      *it, kp, {"metric", "direction", "maxRegressionPercent", "window", "minReportingThings"}));
  KpiConfig k;
  VQI_ASSIGN_OR_RETURN(k.metric, GetString(*it, kp, "metric", true));
  if (k.metric.empty() || k.metric.size() > 128)
    return InvalidArgument(kp + ".metric: must be 1-128 bytes");
  VQI_ASSIGN_OR_RETURN(std::string dir, GetEnum(*it, kp, "direction",
                                                {"LOWER_IS_BETTER", "HIGHER_IS_BETTER"}, true, ""));
  k.lower_is_better = dir == "LOWER_IS_BETTER";
  VQI_ASSIGN_OR_RETURN(k.max_regression_percent,
                       GetNumber(*it, kp, "maxRegressionPercent", true, 0, 0, 1e6));
  VQI_ASSIGN_OR_RETURN(k.window, GetInt(*it, kp, "window", false, 100, 1, 1000000));
  VQI_ASSIGN_OR_RETURN(k.min_reporting_things,
                       GetInt(*it, kp, "minReportingThings", false, 1, 1, INT32_MAX));
  r.kpi = k;
  return Status::Ok();
}

Status ParseVqiShadow(const Json& j, DeploymentDocument& d) {
  const std::string p = "vqiShadow";
  VQI_RETURN_IF_ERROR(ExpectObject(j, p));
  VQI_RETURN_IF_ERROR(RefuseUnknown(j, p, {"component", "version", "inspector", "promoteWhen"}));
  ShadowConfig s;
  VQI_ASSIGN_OR_RETURN(s.component, GetString(j, p, "component", true));
  VQI_ASSIGN_OR_RETURN(s.version, GetString(j, p, "version", true));
  VQI_ASSIGN_OR_RETURN(s.inspector, GetString(j, p, "inspector", false, "vqi.inspect"));
  VQI_ASSIGN_OR_RETURN(s.promote_when, GetString(j, p, "promoteWhen", false));
  if (Status st = component::ValidateVersionField(s.version); !st.ok())
    return InvalidArgument(p + ".version: " + st.message());
  auto live = d.components.find(s.component);
  if (live == d.components.end())
    return InvalidArgument(p + ".component: '" + s.component.substr(0, 128) +
                           "' is not one of the document's components (the live model must be "
                           "deployed with it)");
  if (live->second.version == s.version)
    return InvalidArgument(p + ".version: " + s.version + " is the live version of " + s.component +
                           "; name another version as the candidate");
  if (!d.components.count(s.inspector))
    return InvalidArgument(p + ".inspector: '" + s.inspector.substr(0, 128) +
                           "' is not one of the document's components (the component that runs "
                           "the models; default vqi.inspect)");
  if (!s.promote_when.empty()) {
    auto rule = PromoteRule::Parse(s.promote_when);
    if (!rule.ok())
      return Status(rule.status().code(), p + ".promoteWhen: " + rule.status().message());
  }
  d.shadow = s;
  return Status::Ok();
}

}  // namespace

Result<DeploymentDocument> ParseDeploymentDocument(std::string_view text, std::string_view origin) {
  if (text.size() > kMaxDocumentBytes)
    return ResourceExhausted(std::string(origin) + ": " + std::to_string(text.size()) +
                             " bytes, more than the maximum of " +
                             std::to_string(kMaxDocumentBytes) + " (docs/limits.md, Fleet)");
  VQI_ASSIGN_OR_RETURN(Json doc, ParseJson(text, std::string(origin), 32));
  VQI_RETURN_IF_ERROR(ExpectObject(doc, ""));
  VQI_RETURN_IF_ERROR(RefuseUnknown(
      doc, "",
      {"targetArn", "deploymentName", "components", "deploymentPolicies", "iotJobConfiguration",
       "tags", "parentTargetArn", "clientToken", "vqiRolloutConfig", "vqiShadow", "vqiPromotion"}));
  DeploymentDocument d;
  VQI_ASSIGN_OR_RETURN(std::string arn, GetString(doc, "", "targetArn", false));
  VQI_ASSIGN_OR_RETURN(d.deployment_name, GetString(doc, "", "deploymentName", false));
  if (d.deployment_name.size() > 256)
    return InvalidArgument("deploymentName: longer than 256 bytes");
  auto comps = doc.find("components");
  if (comps == doc.end()) return InvalidArgument("components: missing");
  VQI_RETURN_IF_ERROR(ExpectObject(*comps, "components"));
  if (comps->empty()) return InvalidArgument("components: empty (deploy at least one component)");
  if (comps->size() > kMaxDocumentComponents)
    return ResourceExhausted("components: " + std::to_string(comps->size()) +
                             " components, more than the maximum of " +
                             std::to_string(kMaxDocumentComponents) + " (docs/limits.md, Fleet)");
  for (auto it = comps->begin(); it != comps->end(); ++it) {
    if (Status st = component::ValidateComponentName(it.key()); !st.ok())
      return InvalidArgument("components." + it.key().substr(0, 128) + ": " + st.message());
    VQI_ASSIGN_OR_RETURN(DocumentComponent c, ParseComponent(it.value(), "components." + it.key()));
    d.components[it.key()] = std::move(c);
  }
  if (auto it = doc.find("deploymentPolicies"); it != doc.end())
    VQI_RETURN_IF_ERROR(ParsePolicies(*it, d));
  if (auto it = doc.find("iotJobConfiguration"); it != doc.end())
    VQI_RETURN_IF_ERROR(ParseJobConfig(*it, d.rollout));
  if (auto it = doc.find("vqiRolloutConfig"); it != doc.end())
    VQI_RETURN_IF_ERROR(ParseVqiRollout(*it, d.rollout));
  if (auto it = doc.find("vqiShadow"); it != doc.end()) VQI_RETURN_IF_ERROR(ParseVqiShadow(*it, d));
  if (auto it = doc.find("vqiPromotion"); it != doc.end()) {
    VQI_RETURN_IF_ERROR(ExpectObject(*it, "vqiPromotion"));
    d.promotion = *it;
  }
  return d;
}

}  // namespace vqi::fleet
