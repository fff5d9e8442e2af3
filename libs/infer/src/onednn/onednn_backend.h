// The oneDNN InferenceBackend: load -> OptimizeGraph -> Compile, once; Run binds pointers.
#pragma once

#include <memory>
#include <string>

#include "vqi/infer/backend.h"

namespace vqi::infer::onednn {

// Loads `onnx_path` for the Ultralytics contract (input rank 4, output rank 3). Errors name the
// file and the node at fault.
Result<std::unique_ptr<InferenceBackend>> OpenOneDnnBackend(const std::string& onnx_path,
                                                            const BackendOptions& options);

}  // namespace vqi::infer::onednn
