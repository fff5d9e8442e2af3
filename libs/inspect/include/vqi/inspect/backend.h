// The one inference backend this build of libs/inspect carries (CMake option
// VQI_INSPECT_BACKEND: onednn or opencv): a device program links exactly one.
#pragma once

namespace vqi::inspect {

// Registers the backend with libs/infer's registry (call once from main()).
void RegisterInspectBackend();
// "onednn" or "opencv".
const char* InspectBackendName();

}  // namespace vqi::inspect
