// Shadow promotion: the rule over the fleet's evidence, and the promoting deployment.
#include "vqi/fleet/shadow_promote.h"

#include <ctime>
#include <set>

#include "vqi/base/log.h"
#include "vqi/fleet/deploy.h"
#include "vqi/fleet/promote_rule.h"

namespace vqi::fleet {

std::string FormatUtcSeconds(int64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

namespace {

// The latest statistics of `d`'s active things for its candidate, summed.
Result<ShadowAggregate> Evidence(FleetStore& fleet, ShadowStore& shadow, const Deployment& d,
                                 const ShadowConfig& sh) {
  VQI_ASSIGN_OR_RETURN(std::vector<DeviceStatusRecord> records, fleet.DeviceStatuses(d.id));
  std::set<std::string> things;
  for (const DeviceStatusRecord& r : records) {
    VQI_ASSIGN_OR_RETURN(Thing t, fleet.GetThing(r.thing));
    if (t.revoked.empty()) things.insert(r.thing);
  }
  VQI_ASSIGN_OR_RETURN(std::vector<StoredShadowStats> rows, shadow.List(sh.component, sh.version));
  std::vector<ShadowStats> mine;
  for (const StoredShadowStats& r : rows)
    if (things.count(r.stats.thing) && r.stats.component == sh.inspector) mine.push_back(r.stats);
  return AggregateShadow(mine);
}

}  // namespace

Result<std::optional<PromotionCheck>> CheckPromotion(FleetStore& fleet, ShadowStore& shadow,
                                                     const Deployment& d) {
  VQI_ASSIGN_OR_RETURN(DeploymentDocument doc, ParseDeploymentDocument(d.document, d.id));
  if (!doc.shadow || doc.shadow->promote_when.empty()) return std::optional<PromotionCheck>();
  VQI_ASSIGN_OR_RETURN(PromoteRule rule, PromoteRule::Parse(doc.shadow->promote_when));
  PromotionCheck check;
  check.shadow = *doc.shadow;
  VQI_ASSIGN_OR_RETURN(check.evidence, Evidence(fleet, shadow, d, check.shadow));
  check.holds = rule.Holds(check.evidence);
  return std::optional<PromotionCheck>(check);
}

Result<std::string> PromotionDocument(const Deployment& d, const PromotionCheck& check,
                                      const std::string& at) {
  VQI_ASSIGN_OR_RETURN(Json doc, ParseJson(d.document, d.id, 32));
  const ShadowConfig& sh = check.shadow;
  doc.erase("vqiShadow");
  doc.erase("vqiPromotion");
  doc["components"][sh.component]["componentVersion"] = sh.version;
  Json& update = doc["components"][sh.inspector]["configurationUpdate"];
  if (!update.is_object()) update = Json::object();
  // The document's own Shadow keys (ReportEvery, ...) go too: no candidate is left to run.
  if (update.contains("merge") && update["merge"].is_string()) {
    VQI_ASSIGN_OR_RETURN(Json merge, ParseJson(update["merge"].get<std::string>(),
                                               d.id + ": " + sh.inspector + " merge", 64));
    if (merge.is_object() && merge.contains("Shadow")) {
      merge.erase("Shadow");
      update["merge"] = merge.dump();
    }
  }
  if (!update.contains("reset") || !update["reset"].is_array()) update["reset"] = Json::array();
  update["reset"].push_back("/Shadow");
  doc["vqiPromotion"] = {{"from", d.id},
                         {"component", sh.component},
                         {"version", sh.version},
                         {"rule", sh.promote_when},
                         {"evidence", check.evidence.ToJson()},
                         {"at", at}};
  return doc.dump();
}

Result<std::string> MaybePromote(FleetStore& fleet, component::Store& components,
                                 ShadowStore& shadow, const Deployment& d, const std::string& at) {
  VQI_ASSIGN_OR_RETURN(std::optional<PromotionCheck> check, CheckPromotion(fleet, shadow, d));
  if (!check || !check->holds) return std::string();
  VQI_ASSIGN_OR_RETURN(std::string text, PromotionDocument(d, *check, at));
  VQI_ASSIGN_OR_RETURN(CreateOutcome out,
                       CreateDeployment(fleet, components, d.target, text, "promotion of " + d.id));
  VQI_LOG_INFO(
      "fleet controller: {}: promoted {}@{} to {} as {} ({} images on {} devices, "
      "verdict agreement {:.4f}, box match {:.4f}; rule: {})",
      d.id, check->shadow.component, check->shadow.version, d.target.ToString(), out.deployment.id,
      check->evidence.images, check->evidence.devices, check->evidence.VerdictAgreement(),
      check->evidence.BoxMatch(), check->shadow.promote_when);
  return out.deployment.id;
}

Result<std::string> WithShadowOptions(std::string_view text, const std::string& shadow,
                                      const std::string& promote_when,
                                      const std::string& inspector) {
  if (shadow.empty() && promote_when.empty() && inspector.empty()) return std::string(text);
  VQI_ASSIGN_OR_RETURN(Json doc, ParseJson(text, "document", 32));
  if (!doc.is_object()) return InvalidArgument("document: not a JSON object");
  Json& sh = doc["vqiShadow"];
  if (sh.is_null()) sh = Json::object();
  if (!sh.is_object()) return InvalidArgument("vqiShadow: not a JSON object");
  if (!shadow.empty()) {
    const size_t at = shadow.rfind('@');
    if (at == std::string::npos || at == 0 || at + 1 == shadow.size())
      return InvalidArgument("--shadow '" + shadow +
                             "': expected COMPONENT@VERSION (e.g. vqi.model.tags@1.0.1)");
    sh["component"] = shadow.substr(0, at);
    sh["version"] = shadow.substr(at + 1);
  }
  if (!sh.contains("component"))
    return InvalidArgument(
        "--promote-when/--inspector need a candidate: --shadow COMPONENT@VERSION or the "
        "document's vqiShadow");
  if (!promote_when.empty()) sh["promoteWhen"] = promote_when;
  if (!inspector.empty()) sh["inspector"] = inspector;
  return doc.dump(2);
}

Result<Json> ShadowSummary(FleetStore& fleet, ShadowStore& shadow, const Deployment& d) {
  VQI_ASSIGN_OR_RETURN(DeploymentDocument doc, ParseDeploymentDocument(d.document, d.id));
  Json out = Json::object();
  if (doc.promotion.is_object()) out["promotion"] = doc.promotion;
  if (doc.shadow) {
    Json s{{"component", doc.shadow->component},
           {"version", doc.shadow->version},
           {"inspector", doc.shadow->inspector},
           {"promoteWhen", doc.shadow->promote_when}};
    VQI_ASSIGN_OR_RETURN(ShadowAggregate evidence, Evidence(fleet, shadow, d, *doc.shadow));
    s["evidence"] = evidence.ToJson();
    bool holds = false;
    if (!doc.shadow->promote_when.empty()) {
      VQI_ASSIGN_OR_RETURN(PromoteRule rule, PromoteRule::Parse(doc.shadow->promote_when));
      holds = rule.Holds(evidence);
    }
    s["holds"] = holds;
    out["shadow"] = s;
  }
  return out;
}

}  // namespace vqi::fleet
