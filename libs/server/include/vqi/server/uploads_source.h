// The server's upload log as a `vqi store verify|gc` reference source (libs/registry's
// KnownSource): digests uploaded within kUploadRetention are kept by gc.
#pragma once

#include "vqi/registry/artifacts.h"

namespace vqi::server {

registry::KnownSource UploadsSource();

}  // namespace vqi::server
