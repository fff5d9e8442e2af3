// RecipeToJson: the canonical form (what libs/signing signs). Keys are sorted by
// nlohmann::json's std::map, every default is written out, empty optional strings are left out.
#include "vqi/component/recipe.h"

namespace vqi::component {
namespace {

Json StepToJson(const LifecycleStep& s) {
  Json j = {{"Script", s.script}, {"RequiresPrivilege", s.requires_privilege}};
  if (s.timeout_seconds) j["Timeout"] = *s.timeout_seconds;
  if (!s.skip_if.empty()) j["Skipif"] = s.skip_if;
  if (!s.setenv.empty()) j["Setenv"] = s.setenv;
  if (s.bootstrap_on_rollback) j["BootstrapOnRollback"] = *s.bootstrap_on_rollback;
  return j;
}

Json LifecycleToJson(const Lifecycle& l) {
  Json j = Json::object();
  if (!l.setenv.empty()) j["setEnv"] = l.setenv;
  for (const auto& [name, step] : l.steps) j[name] = StepToJson(step);
  return j;
}

Json ArtifactToJson(const Artifact& a) {
  Json j = {
      {"Uri", a.uri},
      {"Unarchive", UnarchiveName(a.unarchive)},
      {"Permission", {{"Read", PermissionName(a.read)}, {"Execute", PermissionName(a.execute)}}}};
  if (!a.digest.empty()) {
    j["Digest"] = a.digest;
    j["Algorithm"] = a.algorithm.empty() ? "SHA-256" : a.algorithm;
  }
  return j;
}

}  // namespace

Json RecipeToJson(const Recipe& r) {
  Json j = {{"RecipeFormatVersion", r.format_version},
            {"ComponentName", r.name},
            {"ComponentVersion", r.version},
            {"ComponentType", r.type},
            {"ComponentConfiguration", {{"DefaultConfiguration", r.default_configuration}}}};
  if (!r.description.empty()) j["ComponentDescription"] = r.description;
  if (!r.publisher.empty()) j["ComponentPublisher"] = r.publisher;
  Json deps = Json::object();
  for (const auto& [name, d] : r.dependencies)
    deps[name] = {{"VersionRequirement", d.version_requirement},
                  {"DependencyType", DependencyTypeName(d.type)}};
  j["ComponentDependencies"] = std::move(deps);
  Json manifests = Json::array();
  for (const Manifest& m : r.manifests) {
    Json mj = {{"Platform", Json::object()}, {"Artifacts", Json::array()}};
    for (const auto& [k, v] : m.platform) mj["Platform"][k] = v;
    if (!m.name.empty()) mj["Name"] = m.name;
    if (m.lifecycle) mj["Lifecycle"] = LifecycleToJson(*m.lifecycle);
    for (const Artifact& a : m.artifacts) mj["Artifacts"].push_back(ArtifactToJson(a));
    if (!m.selections.empty()) mj["Selections"] = m.selections;
    manifests.push_back(std::move(mj));
  }
  j["Manifests"] = std::move(manifests);
  if (r.lifecycle || !r.lifecycle_selections.empty()) {
    Json l = LifecycleToJson(r.lifecycle.value_or(Lifecycle{}));
    for (const auto& [name, section] : r.lifecycle_selections) l[name] = LifecycleToJson(section);
    j["Lifecycle"] = std::move(l);
  }
  return j;
}

}  // namespace vqi::component
