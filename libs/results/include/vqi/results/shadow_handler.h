// The server's handler for shadow statistics (vqi/v1/results/<thing>/<component>/shadow,
// docs/design/shadow.md): plugged into the results ingest's dispatch
// (IngestOptions::sub_handlers["shadow"]); each message is parsed and stored as the latest of
// its (thing, component, candidate) in <home>/fleet/shadow.db (fleet/shadow_store.h), where the
// fleet controller reads it for `promoteWhen`.
#pragma once

#include <memory>
#include <string>

#include "vqi/base/status.h"
#include "vqi/results/ingest.h"

namespace vqi::results {

// Opens the shadow store under `home`. The handler runs on the ingest's writer thread only.
Result<std::shared_ptr<SubKindHandler>> MakeShadowHandler(const std::string& home);

}  // namespace vqi::results
