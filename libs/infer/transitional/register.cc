// Transitional (see libs/infer/CMakeLists.txt): replaced by libs/infer-onednn.
#include "onednn/onednn_backend.h"
#include "vqi/infer/onednn.h"

namespace vqi::infer {

void RegisterOnednnBackend() {
  RegisterBackend("onednn", [](const OnnxModel& m, const BackendOptions& o) {
    return onednn::OpenOneDnnBackend(m.path, o);
  });
}

}  // namespace vqi::infer
