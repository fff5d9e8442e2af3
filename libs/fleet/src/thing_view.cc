#include "vqi/fleet/thing_view.h"

#include "vqi/fleet/health.h"

namespace vqi::fleet {

Json ThingJson(const Thing& t) {
  return Json{{"name", t.name},
              {"groups", t.groups},
              {"created", t.created},
              {"revoked", t.revoked.empty() ? Json(nullptr) : Json(t.revoked)},
              {"certificate_serial", t.cert_serial},
              {"certificate_fingerprint", t.cert_fingerprint},
              {"desired_sequence", t.desired_sequence}};
}

Json HealthJson(FleetStore& fleet, const std::string& thing) {
  auto h = fleet.GetHealth(thing);
  if (!h.ok() || !h->has_value())
    return Json{{"last_seen", nullptr}, {"heartbeat", nullptr}, {"heartbeat_at", nullptr}};
  // Checked again on the way out: what callers print has the schema's shape even if the
  // stored text were damaged (then: null and the reason).
  Json hb = nullptr;
  std::string error;
  if (!(*h)->heartbeat.empty()) {
    auto parsed = ParseHealthReport((*h)->heartbeat, thing);
    if (!parsed.ok()) {
      error = "stored heartbeat: " + parsed.status().message();
    } else if (auto j = ParseJson(HealthReportToJson(*parsed), "heartbeat"); j.ok()) {
      hb = *j;
    }
  }
  Json out{{"last_seen", (*h)->last_seen},
           {"heartbeat", hb},
           {"heartbeat_at", (*h)->heartbeat_at.empty() ? Json(nullptr) : Json((*h)->heartbeat_at)}};
  if (!error.empty()) out["heartbeat_error"] = error;
  return out;
}

Json PublishedJson(FleetStore& fleet, const std::string& thing) {
  auto d = fleet.GetDesired(thing);
  if (!d.ok() || !d->has_value()) return nullptr;
  return Json{{"sequence", (*d)->sequence},
              {"deployment", (*d)->deployment_id},
              {"cleared", (*d)->payload.empty()},
              {"acknowledged", !(*d)->pending}};
}

Result<Json> ThingDeploymentsJson(FleetStore& fleet, const std::string& thing) {
  Json out = Json::array();
  VQI_ASSIGN_OR_RETURN(std::vector<Deployment> all, fleet.ListDeployments());
  for (const Deployment& d : all) {
    auto st = fleet.GetDeviceStatus(d.id, thing);
    if (!st.ok()) continue;
    Json j{{"id", d.id},
           {"target", d.target.ToString()},
           {"status", DeviceStatusName(st->status)},
           {"reason", st->reason},
           {"updated", st->updated}};
    if (st->kpi)
      j["kpi"] = {{"metric", st->kpi->metric},
                  {"before", st->kpi->before},
                  {"after", st->kpi->after},
                  {"samples", st->kpi->samples}};
    out.push_back(j);
  }
  return out;
}

Result<Json> ThingDetailJson(FleetStore& fleet, const std::string& thing) {
  VQI_ASSIGN_OR_RETURN(Thing t, fleet.GetThing(thing));
  Json j = ThingJson(t);
  j["health"] = HealthJson(fleet, t.name);
  j["published"] = PublishedJson(fleet, t.name);
  VQI_ASSIGN_OR_RETURN(j["deployments"], ThingDeploymentsJson(fleet, t.name));
  return j;
}

}  // namespace vqi::fleet
