// Model openers: each area that can run a model file (a checkpoint via libs/train, an ONNX
// file via libs/infer) registers one from its own <lib>_cmd*.cc file; `vqi model predict|eval`
// open models through OpenDetector() without knowing which areas are built in.
//
//   static const bool kOpener = vqi::cli::RegisterDetectorOpener(
//       "onnx", [](const std::string& path) { return path.ends_with(".onnx"); },
//       [](const std::string& path, const vqi::cli::ModelRunOptions& o) { ... });
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "vqi/base/status.h"
#include "vqi/eval/detector.h"

namespace vqi::cli {

struct ModelRunOptions {
  int threads = 1;
  std::string backend = "auto";  // inference backend for ONNX files: opencv|onednn|auto
};

using DetectorOpener = std::function<Result<std::unique_ptr<eval::Detector>>(
    const std::string& path, const ModelRunOptions& options)>;

bool RegisterDetectorOpener(const std::string& name,
                            std::function<bool(const std::string& path)> accepts,
                            DetectorOpener open);

// The first registered opener that accepts `path`; InvalidArgument naming the file and the
// known kinds when none does.
Result<std::unique_ptr<eval::Detector>> OpenDetector(const std::string& path,
                                                     const ModelRunOptions& options);

}  // namespace vqi::cli
