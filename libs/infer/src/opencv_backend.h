// The OpenCV DNN backend (Debian's OpenCV 4.6, CPU). Private to libs/infer; reached through
// OpenBackend("opencv", ...).
#pragma once

#include <memory>
#include <string>

#include "vqi/infer/backend.h"

namespace vqi::infer {

// Loads `onnx_path` with cv::dnn::readNetFromONNX and runs one warm-up inference to check the
// output size. cv::setNumThreads is process-wide: Run() sets it to options.threads each call.
// InvalidArgument naming the file when OpenCV cannot import the graph (the importer's message
// names the node).
Result<std::unique_ptr<InferenceBackend>> OpenOpenCvBackend(const std::string& onnx_path,
                                                            const BackendOptions& options);

}  // namespace vqi::infer
