// The installer: versioned, immutable install folders (docs/design/agent.md, "Installer").
#pragma once

#include <string>
#include <vector>

#include "vqi/agent/artifact_source.h"
#include "vqi/agent/plan.h"
#include "vqi/base/status.h"

namespace vqi::agent {

// Copies `files` (the component's manifest artifacts, in order) into
// <root>/packages/artifacts/<name>/<version>/ with the recipe's permissions and unpacks
// `Unarchive: ZIP` ones into <root>/packages/artifacts-unarchived/<name>/<version>/<stem>/.
// Each version folder is built under a temporary name and renamed: it appears complete or not
// at all. An existing version folder is kept as it is (versions are immutable). Also makes
// <root>/work/<name>.
Status InstallArtifacts(const std::string& root, const PlannedComponent& c,
                        const std::vector<LocalArtifact>& files);

}  // namespace vqi::agent
