#include <mutex>

#include "opencv_backend.h"
#include "vqi/base/log.h"
#include "vqi/infer/backend.h"
#include "vqi/infer/model_check.h"

namespace vqi::infer {

namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, BackendFactory> factories;
};

Registry& Get() {
  // The OpenCV backend is built in (registered here, not by a static initializer that a
  // static-library link could drop).
  static Registry* r = [] {
    auto* reg = new Registry();
    reg->factories["opencv"] = OpenOpenCvBackend;
    return reg;
  }();
  return *r;
}

Result<BackendFactory> Find(const std::string& name) {
  Registry& r = Get();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.factories.find(name);
  if (it == r.factories.end()) {
    std::string known;
    for (const auto& [n, f] : r.factories) known += (known.empty() ? "" : ", ") + n;
    return InvalidArgument("unknown inference backend '" + name + "' (built in: " + known +
                           ", or auto)");
  }
  return it->second;
}

}  // namespace

bool RegisterBackend(const std::string& name, BackendFactory factory) {
  Registry& r = Get();
  std::lock_guard<std::mutex> lock(r.mu);
  r.factories[name] = std::move(factory);
  return true;
}

std::vector<std::string> BackendNames() {
  Registry& r = Get();
  std::lock_guard<std::mutex> lock(r.mu);
  std::vector<std::string> names;
  for (const auto& [n, f] : r.factories) names.push_back(n);
  return names;
}

Result<std::unique_ptr<InferenceBackend>> OpenBackend(const std::string& name,
                                                      const std::string& onnx_path,
                                                      const BackendOptions& options) {
  // Contract errors (missing, truncated, not ONNX, wrong rank, unknown op) are the same
  // whichever backend would run the model.
  VQI_RETURN_IF_ERROR(InspectModel(onnx_path).status());
  if (name != "auto") {
    VQI_ASSIGN_OR_RETURN(BackendFactory f, Find(name));
    return f(onnx_path, options);
  }
  std::string why = "the onednn backend is not built in";
  if (auto onednn = Find("onednn"); onednn.ok()) {
    auto b = (*onednn)(onnx_path, options);
    if (b.ok()) return b;
    why = b.status().ToString();
  }
  VQI_LOG_WARN("inference backend auto: using opencv for {} because {}", onnx_path, why);
  VQI_ASSIGN_OR_RETURN(BackendFactory f, Find("opencv"));
  return f(onnx_path, options);
}

}  // namespace vqi::infer
