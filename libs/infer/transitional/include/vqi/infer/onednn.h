// Transitional (see libs/infer/CMakeLists.txt): replaced by libs/infer-onednn's header.
#pragma once

#include "vqi/infer/backend.h"

namespace vqi::infer {

// Registers the oneDNN backend as "onednn". Call once at program start.
void RegisterOnednnBackend();

}  // namespace vqi::infer
