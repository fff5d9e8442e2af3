#include <map>
#include <mutex>

#include "vqi/base/log.h"
#include "vqi/infer/backend.h"
#include "vqi/infer/model_file.h"

namespace vqi::infer {

namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, BackendFactory> factories;
};

Registry& Get() {
  static Registry* r = new Registry();  // never destroyed: usable until the process ends
  return *r;
}

Result<BackendFactory> Find(const std::string& name) {
  Registry& r = Get();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.factories.find(name);
  if (it == r.factories.end()) {
    std::string known;
    for (const auto& [n, f] : r.factories) known += (known.empty() ? "" : ", ") + n;
    return InvalidArgument("unknown inference backend '" + name +
                           "' (built in: " + (known.empty() ? "none" : known) + ", or auto)");
  }
  return it->second;
}

}  // namespace

void RegisterBackend(const std::string& name, BackendFactory factory) {
  Registry& r = Get();
  std::lock_guard<std::mutex> lock(r.mu);
  r.factories[name] = std::move(factory);
}

std::vector<std::string> BackendNames() {
  Registry& r = Get();
  std::lock_guard<std::mutex> lock(r.mu);
  std::vector<std::string> names;
  for (const auto& [n, f] : r.factories) names.push_back(n);
  return names;
}

const char* PrecisionName(Precision p) {
  switch (p) {
    case Precision::kFp32:
      return "fp32";
    case Precision::kBf16:
      return "bf16";
    case Precision::kInt8:
      return "int8";
    case Precision::kAuto:
      break;
  }
  return "auto";
}

Result<Precision> ParsePrecision(const std::string& name) {
  for (Precision p : {Precision::kAuto, Precision::kFp32, Precision::kBf16, Precision::kInt8})
    if (name == PrecisionName(p)) return p;
  return InvalidArgument("precision '" + name + "': accepted values auto, fp32, bf16, int8");
}

Result<std::unique_ptr<InferenceBackend>> OpenBackend(const std::string& name,
                                                      const OnnxModel& model,
                                                      const BackendOptions& options) {
  if (options.threads < 1)
    return InvalidArgument("inference backend threads " + std::to_string(options.threads) +
                           ": must be >= 1");
  if (options.batch < 1 || options.batch > kMaxBatch)
    return InvalidArgument("inference batch " + std::to_string(options.batch) +
                           " out of range (accepted: 1.." + std::to_string(kMaxBatch) + ")");
  if (name != "auto") {
    VQI_ASSIGN_OR_RETURN(BackendFactory f, Find(name));
    return f(model, options);
  }
  std::string why = "the onednn backend is not built in";
  auto opencv = Find("opencv");
  if (auto onednn = Find("onednn"); onednn.ok()) {
    auto b = (*onednn)(model, options);
    // Without a fallback, oneDNN's own error; bf16 and batch > 1 run on oneDNN only (no
    // silent fp32, no refusal from opencv hiding why oneDNN could not).
    if (b.ok() || !opencv.ok() || options.precision == Precision::kBf16 || options.batch > 1)
      return b;
    why = b.status().ToString();
  }
  if (!opencv.ok())
    return InvalidArgument(model.path + ": no inference backend is built in (auto)");
  VQI_LOG_WARN("inference backend auto: using opencv for {} because {}", model.path, why);
  return (*opencv)(model, options);
}

Result<std::unique_ptr<InferenceBackend>> OpenBackend(const std::string& name,
                                                      const std::string& onnx_path,
                                                      const BackendOptions& options) {
  // Contract errors (missing, truncated, not ONNX, wrong rank, unknown op) are the same
  // whichever backend would run the model.
  VQI_ASSIGN_OR_RETURN(OnnxModel model, LoadOnnxModel(onnx_path));
  return OpenBackend(name, model, options);
}

}  // namespace vqi::infer
