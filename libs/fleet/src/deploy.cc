// Deployment creation, the union of a thing's deployments, cancel.
#include "vqi/fleet/deploy.h"

#include <algorithm>
#include <map>

#include "vqi/base/json.h"
#include "vqi/component/recipe.h"
#include "vqi/component/resolve_recipes.h"
#include "vqi/fleet/document.h"
#include "vqi/fleet/rollout.h"

namespace vqi::fleet {

Result<std::vector<component::CatalogueVersion>> StoreCatalogue::Versions(
    std::string_view name) const {
  VQI_ASSIGN_OR_RETURN(std::vector<std::string> versions, store_->Versions(std::string(name)));
  std::vector<component::CatalogueVersion> out;
  for (const std::string& v : versions) {
    VQI_ASSIGN_OR_RETURN(component::StoredComponent c, store_->Get(std::string(name), v));
    auto doc = ParseJson(c.recipe_json, "stored recipe " + c.name + "@" + v);
    if (!doc.ok()) return DataLoss(doc.status().message());
    auto recipe = component::RecipeFromJson(*doc, "stored recipe " + c.name + "@" + v);
    if (!recipe.ok()) return DataLoss(recipe.status().message());
    VQI_ASSIGN_OR_RETURN(component::Version version,
                         component::ParseVersion(v, c.name + ": ComponentVersion"));
    component::CatalogueVersion cv{version, {}};
    for (const auto& [dep, spec] : recipe->dependencies)
      cv.dependencies.push_back({dep, spec.version_requirement, spec.type});
    out.push_back(std::move(cv));
  }
  return out;
}

Result<std::vector<std::string>> TargetThings(FleetStore& fleet, const Target& target) {
  std::vector<std::string> names;
  if (target.kind == Target::Kind::kThing) {
    names.push_back(target.name);
  } else {
    VQI_ASSIGN_OR_RETURN(names, fleet.GroupMembers(target.name));
    if (names.empty())
      return NotFound("group '" + target.name + "' has no things (vqi thing create NAME --group " +
                      target.name + ")");
  }
  std::vector<std::string> out;
  for (const std::string& n : names) {
    VQI_ASSIGN_OR_RETURN(Thing t, fleet.GetThing(n));
    if (t.revoked.empty()) out.push_back(n);
  }
  if (out.empty()) return FailedPrecondition(target.ToString() + ": every thing is revoked");
  return out;
}

namespace {

// The id a deployment has while it is checked, before the store assigns one.
constexpr const char* kNewId = "(new)";

std::string Who(const Deployment& d) {
  if (d.id == kNewId) return "the new deployment (" + d.target.ToString() + ")";
  return "deployment " + d.id + " (" + d.target.ToString() + ")";
}

// The shadow of the newest deployment in `deps` that names one (docs/design/shadow.md): the
// desired state's `shadow` and, in the inspector's configuration merge, {"Shadow":
// {"ModelComponent", "ModelVersion"}} (vqi-inspect's key). Skipped when the union no longer
// holds the inspector or runs the candidate version already.
Status AddShadow(const std::vector<Deployment>& deps, DesiredState& s) {
  for (auto d = deps.rbegin(); d != deps.rend(); ++d) {
    VQI_ASSIGN_OR_RETURN(DeploymentDocument doc, ParseDeploymentDocument(d->document, d->id));
    if (!doc.shadow) continue;
    const ShadowConfig& sh = *doc.shadow;
    auto live = s.components.find(sh.component);
    auto inspector = s.components.find(sh.inspector);
    if (live == s.components.end() || inspector == s.components.end() ||
        live->second.version == sh.version)
      return Status::Ok();
    s.shadow = ShadowSpec{sh.component, sh.version};
    ConfigurationUpdate u = inspector->second.configuration_update.value_or(ConfigurationUpdate{});
    Json merge = Json::object();
    if (u.merge) {
      VQI_ASSIGN_OR_RETURN(merge, ParseJson(*u.merge, d->id + ": " + sh.inspector + " merge", 64));
    }
    // Other Shadow keys the document set (ReportEvery, ModelFile) stay.
    if (!merge.contains("Shadow") || !merge["Shadow"].is_object()) merge["Shadow"] = Json::object();
    merge["Shadow"]["ModelComponent"] = sh.component;
    merge["Shadow"]["ModelVersion"] = sh.version;
    u.merge = merge.dump();
    inspector->second.configuration_update = u;
    return Status::Ok();
  }
  return Status::Ok();
}

// Resolves the roots of `deps` (oldest first) together for `thing`.
Result<DesiredState> Union(component::Store& components, const std::string& thing,
                           const std::vector<Deployment>& deps) {
  struct Root {
    const Deployment* from;
    DocumentComponent component;
  };
  std::map<std::string, Root> roots;
  std::vector<component::RootRequirement> reqs;
  for (const Deployment& d : deps) {
    VQI_ASSIGN_OR_RETURN(DeploymentDocument doc, ParseDeploymentDocument(d.document, d.id));
    for (const auto& [name, c] : doc.components) {
      auto it = roots.find(name);
      if (it != roots.end() && it->second.component.version != c.version)
        return FailedPrecondition(
            "thing " + thing + ": component " + name + ": " + Who(*it->second.from) + " requires " +
            it->second.component.version + ", " + Who(d) + " requires " + c.version);
      roots[name] = Root{&d, c};  // a newer deployment's configuration update wins
      reqs.push_back({name, c.version, Who(d)});
    }
  }
  StoreCatalogue catalogue(&components);
  auto resolution = component::Resolve(catalogue, reqs, component::AwsPlatform());
  if (!resolution.ok()) {
    if (deps.size() < 2) return resolution.status();
    std::string names;
    for (const Deployment& d : deps) names += (names.empty() ? "" : " and ") + Who(d);
    return Status(resolution.status().code(),
                  "thing " + thing + ": " + names +
                      " cannot be installed together: " + resolution.status().message());
  }
  const Deployment& newest = deps.back();
  VQI_ASSIGN_OR_RETURN(DeploymentDocument doc, ParseDeploymentDocument(newest.document, newest.id));
  DesiredState s;
  s.thing = thing;
  s.deployment_id = newest.id;
  s.failure_handling_policy = doc.failure_handling_policy;
  s.component_update_timeout_seconds = doc.component_update_timeout_seconds;
  s.component_update_action = doc.component_update_action;
  s.configuration_validation_timeout_seconds = doc.configuration_validation_timeout_seconds;
  if (doc.rollout.kpi) s.kpi = KpiSpec{doc.rollout.kpi->metric, doc.rollout.kpi->window};
  for (const component::ResolvedComponent& c : resolution->components) {
    DesiredComponent dc;
    dc.version = c.version.ToString();
    if (auto it = roots.find(c.name); it != roots.end())
      dc.configuration_update = it->second.component.configuration_update;
    s.components[c.name] = dc;
  }
  VQI_RETURN_IF_ERROR(AddShadow(deps, s));
  return s;
}

// The live deployments that reach `thing` (own target, its groups, `extra_group`), with
// `candidate` replacing the live one of its target; oldest first.
Result<std::vector<Deployment>> Contributing(FleetStore& fleet, const std::string& thing,
                                             const std::string& extra_group,
                                             const Deployment* candidate) {
  VQI_ASSIGN_OR_RETURN(Thing t, fleet.GetThing(thing));
  std::vector<Target> targets{{Target::Kind::kThing, thing}};
  for (const std::string& g : t.groups) targets.push_back({Target::Kind::kGroup, g});
  if (!extra_group.empty() &&
      std::find(t.groups.begin(), t.groups.end(), extra_group) == t.groups.end())
    targets.push_back({Target::Kind::kGroup, extra_group});
  std::vector<Deployment> out;
  for (const Target& target : targets) {
    if (candidate && candidate->target == target) {
      out.push_back(*candidate);
      continue;
    }
    VQI_ASSIGN_OR_RETURN(std::optional<Deployment> live, fleet.LiveDeployment(target));
    if (live) out.push_back(*live);
  }
  auto seq = [](const Deployment& d) {
    return d.id == kNewId ? INT64_MAX : std::stoll(d.id.substr(4));
  };
  std::sort(out.begin(), out.end(),
            [&](const Deployment& a, const Deployment& b) { return seq(a) < seq(b); });
  return out;
}

}  // namespace

Result<DesiredState> ComputeDesiredState(FleetStore& fleet, component::Store& components,
                                         const std::string& thing, const std::string& extra_group) {
  VQI_ASSIGN_OR_RETURN(std::vector<Deployment> deps,
                       Contributing(fleet, thing, extra_group, nullptr));
  if (deps.empty()) return NotFound("thing " + thing + ": no live deployment targets it");
  return Union(components, thing, deps);
}

Result<DesiredState> RollbackDesiredState(FleetStore& fleet, component::Store& components,
                                          const std::string& thing,
                                          const std::string& deployment_id) {
  VQI_ASSIGN_OR_RETURN(Deployment rolled, fleet.GetDeployment(deployment_id));
  VQI_ASSIGN_OR_RETURN(std::vector<Deployment> all, fleet.ListDeployments());
  std::optional<Deployment> previous;
  for (const Deployment& d : all)
    if (d.superseded_by == rolled.id && d.canceled.empty()) previous = d;
  VQI_ASSIGN_OR_RETURN(std::vector<Deployment> live, Contributing(fleet, thing, "", nullptr));
  std::vector<Deployment> deps;
  if (previous) deps.push_back(*previous);  // older than every live one of its target
  for (const Deployment& d : live)
    if (d.id != rolled.id && !(d.target == rolled.target)) deps.push_back(d);
  std::sort(deps.begin(), deps.end(), [](const Deployment& a, const Deployment& b) {
    return std::stoll(a.id.substr(4)) < std::stoll(b.id.substr(4));
  });
  if (deps.empty()) {
    DesiredState s;
    s.thing = thing;
    s.deployment_id = rolled.id;
    return s;
  }
  return Union(components, thing, deps);
}

Result<CreateOutcome> CreateDeployment(FleetStore& fleet, component::Store& components,
                                       const Target& target, std::string_view text,
                                       std::string_view origin) {
  VQI_ASSIGN_OR_RETURN(DeploymentDocument doc, ParseDeploymentDocument(text, origin));
  if (doc.shadow) {  // the candidate must exist: devices fetch it like any component
    auto c = components.Get(doc.shadow->component, doc.shadow->version);
    if (!c.ok())
      return Status(c.status().code(), "vqiShadow: candidate " + doc.shadow->component + "@" +
                                           doc.shadow->version + ": " + c.status().message());
  }
  VQI_ASSIGN_OR_RETURN(std::vector<std::string> things, TargetThings(fleet, target));
  Deployment d;
  d.id = kNewId;
  d.target = target;
  d.name = doc.deployment_name;
  d.document = std::string(text);
  // The deployment alone first: the resolver's own message for unknown or unsatisfiable input.
  std::vector<component::RootRequirement> reqs;
  for (const auto& [name, c] : doc.components)
    reqs.push_back({name, c.version, "deployment to " + target.ToString()});
  StoreCatalogue catalogue(&components);
  VQI_ASSIGN_OR_RETURN(component::Resolution res,
                       component::Resolve(catalogue, reqs, component::AwsPlatform()));
  for (const component::ResolvedComponent& c : res.components)
    d.resolved[c.name] = c.version.ToString();
  // Then every targeted thing's union with its other deployments.
  for (const std::string& thing : things) {
    VQI_ASSIGN_OR_RETURN(std::vector<Deployment> deps, Contributing(fleet, thing, "", &d));
    auto u = Union(components, thing, deps);
    if (!u.ok()) return u.status();
  }
  CreateOutcome out;
  VQI_RETURN_IF_ERROR(fleet.InTransaction([&]() -> Status {
    VQI_ASSIGN_OR_RETURN(std::optional<Deployment> old, fleet.LiveDeployment(target));
    if (old) out.superseded = old->id;
    VQI_ASSIGN_OR_RETURN(out.deployment, fleet.CreateDeployment(d));
    VQI_RETURN_IF_ERROR(fleet.AddDevices(out.deployment.id, things));
    if (old) {  // the older deployment's unfinished devices will never run it
      VQI_ASSIGN_OR_RETURN(std::vector<DeviceStatusRecord> st, fleet.DeviceStatuses(old->id));
      for (DeviceStatusRecord& r : st) {
        if (IsTerminal(r.status)) continue;
        r.status = DeviceStatus::kCanceled;
        r.reason = "superseded by " + out.deployment.id;
        r.updated = out.deployment.created;
        VQI_RETURN_IF_ERROR(fleet.PutDeviceStatus(r));
      }
    }
    return Status::Ok();
  }));
  out.things = things;
  return out;
}

Status AddThingToGroup(FleetStore& fleet, component::Store& components, const std::string& thing,
                       const std::string& group) {
  VQI_RETURN_IF_ERROR(ValidateThingName(group, "group name"));
  VQI_ASSIGN_OR_RETURN(std::vector<Deployment> deps, Contributing(fleet, thing, group, nullptr));
  if (deps.size() > 1) {
    auto u = Union(components, thing, deps);
    if (!u.ok()) return u.status().WithContext("cannot add " + thing + " to group " + group);
  }
  return fleet.InTransaction([&]() -> Status {
    VQI_RETURN_IF_ERROR(fleet.AddToGroup(thing, group));
    VQI_ASSIGN_OR_RETURN(std::optional<Deployment> live,
                         fleet.LiveDeployment({Target::Kind::kGroup, group}));
    if (!live) return Status::Ok();
    VQI_RETURN_IF_ERROR(fleet.AddDevices(live->id, {thing}));
    // A completed rollout runs again for the newcomer (the controller skips finished ones).
    if (!live->rollout_state.empty()) {
      auto st = RolloutStateFromJson(live->rollout_state);
      if (st.ok() && st->phase == RolloutPhase::kCompleted) {
        st->phase = RolloutPhase::kRunning;
        VQI_RETURN_IF_ERROR(fleet.SetRolloutState(live->id, RolloutStateToJson(*st)));
      }
    }
    return Status::Ok();
  });
}

Result<std::vector<Deployment>> LiveDeploymentsOf(FleetStore& fleet, const std::string& thing) {
  return Contributing(fleet, thing, "", nullptr);
}

Status RemoveThingFromGroup(FleetStore& fleet, const std::string& thing, const std::string& group,
                            int64_t now_ms) {
  return fleet.InTransaction([&]() -> Status {
    VQI_RETURN_IF_ERROR(fleet.RemoveFromGroup(thing, group));
    VQI_ASSIGN_OR_RETURN(std::optional<Deployment> live,
                         fleet.LiveDeployment({Target::Kind::kGroup, group}));
    if (!live) return Status::Ok();
    auto r = fleet.GetDeviceStatus(live->id, thing);
    if (!r.ok() || IsTerminal(r->status)) return Status::Ok();
    return SetDeviceStatus(fleet, live->id, thing, DeviceStatus::kCanceled, "left group " + group,
                           now_ms);
  });
}

Status CancelDeployment(FleetStore& fleet, const std::string& id, int64_t now_ms) {
  return fleet.InTransaction([&]() -> Status {
    VQI_RETURN_IF_ERROR(fleet.CancelDeployment(id));
    VQI_ASSIGN_OR_RETURN(std::vector<DeviceStatusRecord> st, fleet.DeviceStatuses(id));
    for (const DeviceStatusRecord& r : st)
      if (!IsTerminal(r.status))
        VQI_RETURN_IF_ERROR(
            SetDeviceStatus(fleet, id, r.thing, DeviceStatus::kCanceled, "canceled", now_ms));
    return Status::Ok();
  });
}

}  // namespace vqi::fleet
