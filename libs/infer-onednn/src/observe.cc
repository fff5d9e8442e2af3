// TensorObserver on the compiled oneDNN program: the fp32 graph optimized as for inference
// (fused when every observed tensor survives the fusions, else unfused), with the observed
// tensors kept alive to the end of the program and reordered to plain f32 (CompileOptions::keep).
// Values match the reference interpreter within float rounding (observe_test.cc).
#include "vqi/infer/observe.h"

#include <algorithm>
#include <map>

#include "compiler.h"
#include "graph.h"
#include "ops.h"
#include "passes.h"
#include "vqi/base/system.h"
#include "vqi/infer/onednn.h"

namespace vqi::infer {
namespace {

class CompiledObserver : public TensorObserver {
 public:
  CompiledObserver(std::unique_ptr<onednn::CompiledModel> m, std::map<int, std::string> wanted,
                   std::map<int, int64_t> counts, std::string input_name, bool input_wanted,
                   int output)
      : m_(std::move(m)),
        wanted_(std::move(wanted)),
        counts_(std::move(counts)),
        input_name_(std::move(input_name)),
        input_wanted_(input_wanted),
        output_(output),
        out_(onednn::NumElements(m_->OutputShape())) {
    shape_ = m_->InputShape();
  }
  const std::vector<int64_t>& InputShape() const override { return shape_; }
  Status Run(const float* input, const Callback& fn) override {
    if (input_wanted_) fn(input_name_, input, onednn::NumElements(shape_));
    VQI_RETURN_IF_ERROR(m_->Run(input, out_.data()));
    for (const auto& [t, name] : wanted_) {
      const float* p = t == output_ ? out_.data() : m_->Kept(t);
      if (p) fn(name, p, counts_.at(t));
    }
    return Status::Ok();
  }

 private:
  std::unique_ptr<onednn::CompiledModel> m_;
  std::map<int, std::string> wanted_;
  std::map<int, int64_t> counts_;
  std::string input_name_;
  bool input_wanted_;
  int output_;
  std::vector<float> out_;
  std::vector<int64_t> shape_;
};

// True if every tensor in `wanted` is still computed by a live node of `g`.
bool AllComputed(const onednn::Graph& g, const std::map<int, std::string>& wanted) {
  for (const auto& [t, name] : wanted) {
    int p = g.tensors[t].producer;
    if (p < 0 || g.nodes[p].dead) return false;
    const auto& out = g.nodes[p].out;
    if (std::find(out.begin(), out.end(), t) == out.end()) return false;
  }
  return true;
}

// Both overloads: `loaded` is the graph as read, `onnx_path` names it in errors.
Result<std::unique_ptr<TensorObserver>> Observe(onednn::Graph loaded, const std::string& onnx_path,
                                                const std::vector<std::string>& names,
                                                int threads) {
  onednn::Graph g = loaded;
  onednn::OptimizeOptions oo;
  oo.fuse = false;
  VQI_RETURN_IF_ERROR(onednn::OptimizeGraph(&g, oo));
  std::map<std::string, int> by_name;
  for (size_t t = 0; t < g.tensors.size(); ++t) by_name[g.tensors[t].name] = static_cast<int>(t);
  std::map<int, std::string> wanted;
  std::map<int, int64_t> counts;
  bool input_wanted = false;
  for (const std::string& n : names) {
    auto it = by_name.find(n);
    if (it == by_name.end())
      return InvalidArgument(onnx_path + ": no tensor named '" + n + "' in the graph");
    const onednn::Tensor& t = g.tensors[it->second];
    if (t.dtype != onednn::DType::kFloat)
      return InvalidArgument(onnx_path + ": tensor '" + n + "' is not float");
    if (it->second == g.input) {
      input_wanted = true;
    } else if (t.is_const) {
      return InvalidArgument(onnx_path + ": tensor '" + n + "' is a constant, not an activation");
    } else {
      wanted[it->second] = n;
      counts[it->second] = onednn::NumElements(t.shape);
    }
  }
  // Fusions keep tensor ids; use the fused graph when no observed tensor was fused away.
  onednn::Graph fused = std::move(loaded);
  if (onednn::OptimizeGraph(&fused).ok() && AllComputed(fused, wanted)) g = std::move(fused);
  std::vector<int> keep;
  for (const auto& [t, name] : wanted) keep.push_back(t);
  if (threads <= 0) threads = HardwareThreads();
  if (threads > OnednnOptions::kMaxThreads)
    return InvalidArgument(onnx_path + ": threads " + std::to_string(threads) +
                           " out of range (accepted: 1.." +
                           std::to_string(OnednnOptions::kMaxThreads) + ")");
  const std::string input_name = g.tensors[g.input].name;
  const int output = g.output;
  VQI_ASSIGN_OR_RETURN(auto m, onednn::Compile(std::move(g), {.threads = threads, .keep = keep}));
  return std::unique_ptr<TensorObserver>(new CompiledObserver(
      std::move(m), std::move(wanted), std::move(counts), input_name, input_wanted, output));
}

}  // namespace

Result<std::unique_ptr<TensorObserver>> OpenTensorObserver(const std::string& onnx_path,
                                                           const std::vector<std::string>& names,
                                                           int threads) {
  VQI_ASSIGN_OR_RETURN(onednn::Graph loaded, onednn::LoadOnnxFile(onnx_path));
  return Observe(std::move(loaded), onnx_path, names, threads);
}

Result<std::unique_ptr<TensorObserver>> OpenTensorObserver(const ::onnx::ModelProto& model,
                                                           const std::string& source,
                                                           const std::vector<std::string>& names,
                                                           int threads) {
  VQI_ASSIGN_OR_RETURN(onednn::Graph loaded, onednn::LoadOnnxModel(model, source));
  return Observe(std::move(loaded), source, names, threads);
}

}  // namespace vqi::infer
