// The OpenCV DNN inference backend (Debian's OpenCV 4.6, CPU), as its own library
// (vqi::infer_opencv) so that programs which do not want OpenCV's dnn module never link it.
#pragma once

#include <memory>

#include "vqi/infer/backend.h"

namespace vqi::infer {

// Registers the backend as "opencv" (see RegisterBackend). Call once at program start.
void RegisterOpencvBackend();

// Builds the network from the parsed model (float16 initializers, which OpenCV 4.6 cannot
// read, are widened in memory first) and runs one warm-up inference to check the output size.
// InvalidArgument naming the file when OpenCV cannot import the graph (the importer's message
// names the node); cv::Exception never escapes.
//
// Threads: OpenCV's thread count is process-wide (cv::setNumThreads), so each Run() takes one
// process-wide lock, sets this instance's count and runs: two OpenCV models in one process keep
// their own thread counts but run one at a time.
Result<std::unique_ptr<InferenceBackend>> OpenOpencvBackend(const OnnxModel& model,
                                                            const BackendOptions& options);

}  // namespace vqi::infer
