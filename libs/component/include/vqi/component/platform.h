// Choosing the manifest a device runs (Greengrass's platform matching).
//
// A manifest matches when every attribute of its Platform matches the device's: `*` matches
// any value, `/a|b/` any of the listed literals (Greengrass's regular-expression form, limited
// to alternatives of plain words so no pattern can be expensive), anything else is compared
// ignoring case. An attribute the device lacks matches only `*`. A manifest without Platform
// matches every device.
#pragma once

#include <map>
#include <string>

#include "vqi/base/status.h"
#include "vqi/component/recipe.h"

namespace vqi::component {

using Platform = std::map<std::string, std::string>;  // "os", "architecture", extra attributes

bool PlatformMatches(const Platform& manifest_platform, const Platform& device);

// The first manifest matching `device`. A recipe without manifests gives an empty manifest
// (its lifecycle is the top-level one, see EffectiveLifecycle). NotFound names the device
// platform and every manifest's platform.
Result<Manifest> SelectManifest(const Recipe& recipe, const Platform& device);

// This machine in Greengrass's terms: os (linux, darwin, ...) and architecture (amd64,
// aarch64, arm, x86; `architecture.detail` keeps uname's machine name for arm).
Platform HostPlatform();

std::string PlatformToString(const Platform& p);  // "{architecture: amd64, os: linux}"

}  // namespace vqi::component
