#include <vector>

#include "detectors.h"

namespace vqi::cli {

namespace {
struct Entry {
  std::string name;
  std::function<bool(const std::string&)> accepts;
  DetectorOpener open;
};
std::vector<Entry>& Openers() {
  static std::vector<Entry> e;
  return e;
}
}  // namespace

bool RegisterDetectorOpener(const std::string& name,
                            std::function<bool(const std::string& path)> accepts,
                            DetectorOpener open) {
  Openers().push_back({name, std::move(accepts), std::move(open)});
  return true;
}

Result<std::unique_ptr<eval::Detector>> OpenDetector(const std::string& path,
                                                     const ModelRunOptions& options) {
  std::string kinds;
  for (const auto& e : Openers()) {
    if (e.accepts(path)) return e.open(path, options);
    kinds += (kinds.empty() ? "" : ", ") + e.name;
  }
  return InvalidArgument(path + ": not a model file this build can run (known kinds: " +
                         (kinds.empty() ? "none" : kinds) + ")");
}

}  // namespace vqi::cli
