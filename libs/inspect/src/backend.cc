#include "vqi/inspect/backend.h"

#if defined(VQI_INSPECT_BACKEND_ONEDNN)
#include "vqi/infer/onednn.h"
#elif defined(VQI_INSPECT_BACKEND_OPENCV)
#include "vqi/infer/opencv.h"
#else
#error "VQI_INSPECT_BACKEND_ONEDNN or VQI_INSPECT_BACKEND_OPENCV must be defined"
#endif

namespace vqi::inspect {

void RegisterInspectBackend() {
#if defined(VQI_INSPECT_BACKEND_ONEDNN)
  infer::RegisterOnednnBackend();
#else
  infer::RegisterOpencvBackend();
#endif
}

const char* InspectBackendName() {
#if defined(VQI_INSPECT_BACKEND_ONEDNN)
  return "onednn";
#else
  return "opencv";
#endif
}

}  // namespace vqi::inspect
