// Lets `vqi model predict|eval` run vqi checkpoints (*.safetensors) with libtorch.
#include "detectors.h"
#include "vqi/train/checkpoint_detector.h"

namespace vqi::cli {
namespace {

const bool kOpener = RegisterDetectorOpener(
    "checkpoint", [](const std::string& path) { return path.ends_with(".safetensors"); },
    [](const std::string& path, const ModelRunOptions& o) {
      return train::OpenCheckpointDetector(path, o.threads);
    });

}  // namespace
}  // namespace vqi::cli
