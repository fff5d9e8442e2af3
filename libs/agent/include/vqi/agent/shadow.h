// A shadow candidate on the device (docs/design/shadow.md): the component version a
// deployment's `shadow` names is fetched and verified by the deployment's ArtifactSource like any
// component and installed into <root>/packages/artifacts/<name>/<version> (the installer's
// folder, reused as it is when that version is deployed later: promotion copies and downloads
// nothing again), without a lifecycle. vqi-inspect finds it there (`Shadow.ModelComponent` /
// `ModelVersion`).
#pragma once

#include <optional>
#include <string>

#include "vqi/agent/artifact_source.h"
#include "vqi/agent/deployment.h"
#include "vqi/base/json.h"
#include "vqi/base/status.h"
#include "vqi/component/platform.h"
#include "vqi/component/recipe.h"

namespace vqi::agent {

// The `shadow` of a queued deployment's JSON (DeploymentToJson), if any.
std::optional<ShadowRef> ShadowOf(const Json& deployment);

// Fetches (through `source`: digest and signature checked) and installs the candidate's
// artifacts for `platform`. Errors as the source's and the installer's; the caller logs them
// and goes on (the live set does not depend on a shadow).
Status InstallShadow(const std::string& root, const ShadowRef& shadow, ArtifactSource& source,
                     const component::Platform& platform);

}  // namespace vqi::agent
