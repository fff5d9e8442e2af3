// Registers the oneDNN backend as "onednn" in the backend registry. Compiled into every target
// that links vqi::infer (an INTERFACE source, see onednn.cmake), so the static initializer is
// never dropped from a static-library link.
#include "vqi/infer/backend.h"

namespace vqi::infer::onednn {
Result<std::unique_ptr<InferenceBackend>> OpenOneDnnBackend(const std::string& onnx_path,
                                                            const BackendOptions& options);
}  // namespace vqi::infer::onednn

namespace {
[[maybe_unused]] const bool kOneDnnRegistered =
    vqi::infer::RegisterBackend("onednn", vqi::infer::onednn::OpenOneDnnBackend);
}  // namespace
