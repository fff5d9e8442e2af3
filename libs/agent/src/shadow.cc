// Shadow candidates: fetched and installed without a lifecycle (docs/design/shadow.md).
#include "vqi/agent/shadow.h"

#include "vqi/agent/install.h"
#include "vqi/agent/plan.h"

namespace vqi::agent {

std::optional<ShadowRef> ShadowOf(const Json& deployment) {
  auto it = deployment.find("shadow");
  if (it == deployment.end() || !it->is_object()) return std::nullopt;
  const std::string c = it->value("component", ""), v = it->value("version", "");
  if (c.empty() || v.empty()) return std::nullopt;
  return ShadowRef{c, v};
}

Status InstallShadow(const std::string& root, const ShadowRef& shadow, ArtifactSource& source,
                     const component::Platform& platform) {
  PlannedComponent pc;
  pc.name = shadow.component;
  pc.version = shadow.version;
  VQI_ASSIGN_OR_RETURN(pc.recipe, source.GetRecipe(shadow.component, shadow.version));
  VQI_ASSIGN_OR_RETURN(pc.manifest, component::SelectManifest(pc.recipe, platform));
  VQI_ASSIGN_OR_RETURN(std::vector<LocalArtifact> files,
                       source.GetArtifacts(pc.recipe, pc.manifest));
  return InstallArtifacts(root, pc, files);
}

}  // namespace vqi::agent
