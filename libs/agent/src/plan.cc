#include "vqi/agent/plan.h"

#include <unistd.h>

#include <algorithm>
#include <optional>
#include <set>

#include "vqi/base/hash.h"
#include "vqi/component/interpolate.h"
#include "vqi/component/resolve_recipes.h"

namespace vqi::agent {
namespace {

Json StepToJson(const component::LifecycleStep& s) {
  return {{"script", s.script},
          {"timeout", s.timeout_seconds ? Json(*s.timeout_seconds) : Json()},
          {"privilege", s.requires_privilege},
          {"skipIf", s.skip_if},
          {"setenv", s.setenv}};
}

Json LifecycleToJson(const component::Lifecycle& l) {
  Json steps = Json::object();
  for (const auto& [name, s] : l.steps) steps[name] = StepToJson(s);
  return {{"setenv", l.setenv}, {"steps", steps}};
}

// The part of `running` a deployment set: every leaf that differs from (or is not in) the
// previous recipe's defaults `old_defaults`; nullopt when nothing differs. Objects recurse;
// arrays and scalars are leaves.
std::optional<Json> OverridesOf(const Json& running, const Json& old_defaults) {
  if (!running.is_object() || !old_defaults.is_object()) {
    if (running == old_defaults) return std::nullopt;
    return running;
  }
  Json out = Json::object();
  for (const auto& [key, value] : running.items()) {
    if (!old_defaults.contains(key)) {
      out[key] = value;
    } else if (auto sub = OverridesOf(value, old_defaults.at(key))) {
      out[key] = std::move(*sub);
    }
  }
  if (out.empty()) return std::nullopt;
  return out;
}

// The previous recipe's DefaultConfiguration, from its canonical JSON (component::RecipeToJson).
Json DefaultsOf(const Json& recipe_json) {
  static const Json::json_pointer kDefaults("/ComponentConfiguration/DefaultConfiguration");
  return recipe_json.is_object() && recipe_json.contains(kDefaults) &&
                 recipe_json.at(kDefaults).is_object()
             ? recipe_json.at(kDefaults)
             : Json::object();
}

}  // namespace

const PlannedComponent* Plan::Find(std::string_view name) const {
  for (const auto& c : components)
    if (c.name == name) return &c;
  return nullptr;
}

Result<Json> ApplyConfigurationUpdate(const Json& defaults, const Json& base,
                                      const ConfigurationUpdate& update, std::string_view where) {
  Json out = base.is_object() ? base : Json::object();
  for (const auto& ptr_text : update.reset) {
    if (ptr_text.empty()) {
      out = defaults;
      continue;
    }
    try {
      Json::json_pointer ptr(ptr_text);
      if (defaults.contains(ptr)) {
        out[ptr] = defaults.at(ptr);  // parents are made as needed
      } else if (out.contains(ptr)) {
        Json& parent = out.at(ptr.parent_pointer());
        if (parent.is_object())
          parent.erase(ptr.back());
        else if (parent.is_array())
          parent.erase(std::stoul(ptr.back()));
      }
    } catch (const std::exception& e) {
      return InvalidArgument(std::string(where) + ": reset '" + ptr_text + "': " + e.what());
    }
  }
  if (update.merge) out.merge_patch(*update.merge);
  return out;
}

Result<Deployment> ResolveLocal(const Deployment& roots,
                                const std::vector<component::Recipe>& recipes) {
  std::vector<component::RootRequirement> reqs;
  for (const auto& [name, c] : roots.components) {
    VQI_RETURN_IF_ERROR(component::ValidateVersionField(c.version).WithContext(
        "components." + name + ".componentVersion"));
    reqs.push_back({name, c.version, "deployment " + roots.id});
  }
  VQI_ASSIGN_OR_RETURN(component::Resolution res, component::Resolve(recipes, reqs));
  Deployment full = roots;
  full.components.clear();
  for (const auto& rc : res.components) {
    DeploymentComponent dc;
    dc.version = rc.version.ToString();
    auto it = roots.components.find(rc.name);
    if (it != roots.components.end()) dc.update = it->second.update;
    full.components.emplace(rc.name, std::move(dc));
  }
  return full;
}

Result<ComponentSet> TargetSet(const Deployment& full, const ComponentSet& current,
                               ArtifactSource& source) {
  ComponentSet set;
  for (const auto& [name, dc] : full.components) {
    VQI_ASSIGN_OR_RETURN(component::Recipe recipe, source.GetRecipe(name, dc.version));
    auto cur = current.find(name);
    // Greengrass's rule (KernelConfigResolver: the recipe's defaults are merged with timestamp
    // 1, a deployment's merge with its own, a newer timestamp wins): a value a deployment set
    // persists across versions; a value that came from the previous version's defaults follows
    // the new version's defaults (e.g. a model component's metadata); new default keys appear.
    // vqi keeps no timestamps: a running value equal to the previous recipe's default at the
    // same place counts as a default.
    Json merged =
        recipe.default_configuration.is_object() ? recipe.default_configuration : Json::object();
    if (cur != current.end()) {
      if (auto set_by_deployments =
              OverridesOf(cur->second.configuration, DefaultsOf(cur->second.recipe)))
        merged.merge_patch(*set_by_deployments);
    }
    InstalledComponent ic;
    ic.version = dc.version;
    VQI_ASSIGN_OR_RETURN(ic.configuration,
                         ApplyConfigurationUpdate(recipe.default_configuration, merged, dc.update,
                                                  "components." + name + ".configurationUpdate"));
    ic.recipe = component::RecipeToJson(recipe);
    set.emplace(name, std::move(ic));
  }
  return set;
}

Result<Plan> BuildPlan(const ComponentSet& set, const PlanOptions& options, const Plan* running) {
  std::map<std::string, PlannedComponent> by_name;
  for (const auto& [name, ic] : set) {
    PlannedComponent pc;
    pc.name = name;
    pc.version = ic.version;
    pc.configuration = ic.configuration;
    VQI_ASSIGN_OR_RETURN(pc.recipe, component::RecipeFromJson(ic.recipe, name + " " + ic.version));
    VQI_ASSIGN_OR_RETURN(pc.manifest, component::SelectManifest(pc.recipe, options.platform));
    pc.lifecycle = component::EffectiveLifecycle(pc.recipe, pc.manifest);
    if (pc.lifecycle.steps.count("bootstrap"))
      return Unimplemented(name + " " + ic.version +
                           ": Lifecycle.bootstrap is not supported by vqi-agent yet");
    for (const auto& [dep, d] : pc.recipe.dependencies)
      if (set.count(dep) && d.type == component::DependencyType::kHard)
        pc.hard_dependencies.push_back(dep);
    by_name.emplace(name, std::move(pc));
  }
  // Start order: dependencies first, ties by name (Kahn over the set's own edges).
  std::vector<std::string> order;
  std::set<std::string> placed;
  while (order.size() < by_name.size()) {
    bool progressed = false;
    for (const auto& [name, pc] : by_name) {
      if (placed.count(name)) continue;
      bool ready = true;
      for (const auto& [dep, d] : pc.recipe.dependencies)
        if (by_name.count(dep) && !placed.count(dep)) ready = false;
      if (!ready) continue;
      order.push_back(name);
      placed.insert(name);
      progressed = true;
      break;
    }
    if (!progressed) return InvalidArgument("dependency cycle in the component set");
  }
  Plan plan;
  for (const auto& name : order) {
    PlannedComponent pc = std::move(by_name.at(name));
    component::InterpolationContext ctx;
    ctx.component_name = name;
    ctx.self = component::GreengrassLayout(options.root, name, pc.version);
    ctx.self.configuration = pc.configuration;
    ctx.kernel_root_path = options.root;
    ctx.thing_name = options.thing_name;
    for (const auto& [dep, d] : pc.recipe.dependencies) {
      const PlannedComponent* dp = plan.Find(dep);
      if (!dp) continue;
      component::ComponentContext dc = component::GreengrassLayout(options.root, dep, dp->version);
      dc.configuration = dp->configuration;
      ctx.dependencies.emplace(dep, std::move(dc));
    }
    VQI_ASSIGN_OR_RETURN(pc.lifecycle,
                         component::InterpolateLifecycle(pc.lifecycle, ctx,
                                                         name + " " + pc.version + ": Lifecycle"));
    Json artifacts = Json::array();
    for (const auto& a : pc.manifest.artifacts)
      artifacts.push_back({a.uri, a.digest, component::UnarchiveName(a.unarchive),
                           component::PermissionName(a.read),
                           component::PermissionName(a.execute)});
    Json fp = {{"version", pc.version},
               {"configuration", pc.configuration},
               {"lifecycle", LifecycleToJson(pc.lifecycle)},
               {"artifacts", artifacts}};
    pc.fingerprint = Sha256Hex(fp.dump());
    const PlannedComponent* old = running ? running->Find(name) : nullptr;
    pc.changed = !old || old->fingerprint != pc.fingerprint;
    for (const auto& dep : pc.hard_dependencies)
      if (plan.Find(dep)->changed) pc.changed = true;
    if (pc.changed && !options.is_root) {
      for (const auto& [step, s] : pc.lifecycle.steps)
        if (s.requires_privilege)
          return PermissionDenied(name + " " + pc.version + ": Lifecycle." + step +
                                  ".RequiresPrivilege is true; the agent runs as uid " +
                                  std::to_string(::geteuid()) + ", not root, and never escalates");
    }
    plan.components.push_back(std::move(pc));
  }
  if (running)
    for (const auto& c : running->components)
      if (!set.count(c.name)) plan.removed.push_back(c.name);
  return plan;
}

}  // namespace vqi::agent
