// MakeShadowHandler: results ingest → fleet::IngestShadowMessage (docs/design/shadow.md).
#include "vqi/results/shadow_handler.h"

#include "vqi/fleet/shadow_store.h"

namespace vqi::results {

Result<std::shared_ptr<SubKindHandler>> MakeShadowHandler(const std::string& home) {
  VQI_ASSIGN_OR_RETURN(std::unique_ptr<fleet::ShadowStore> opened,
                       fleet::OpenSqliteShadowStore(fleet::ShadowDbPath(home)));
  std::shared_ptr<fleet::ShadowStore> store = std::move(opened);
  return MakeSubKindHandler([store](const SubKindMessage& m) -> Result<SubKindOutcome> {
    VQI_RETURN_IF_ERROR(
        fleet::IngestShadowMessage(*store, m.thing, m.component, m.payload, m.received_ms));
    return SubKindOutcome::kHandled;
  });
}

}  // namespace vqi::results
