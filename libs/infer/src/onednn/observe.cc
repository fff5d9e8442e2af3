// TensorObserver on the reference kernels: the fp32 graph after shape inference and constant
// folding only (no fusion, so every named tensor of the file still exists), run by RefRun.
// Simple and exact; slow on big models (naive convolutions).
#include <map>

#include "onednn/graph.h"
#include "onednn/ops.h"
#include "onednn/passes.h"
#include "vqi/infer/observe.h"

namespace vqi::infer {
namespace {

class RefObserverImpl : public TensorObserver {
 public:
  RefObserverImpl(onednn::Graph g, std::map<int, std::string> wanted, bool input_wanted)
      : g_(std::move(g)), wanted_(std::move(wanted)), input_wanted_(input_wanted) {
    shape_ = g_.tensors[g_.input].shape;
  }
  const std::vector<int64_t>& InputShape() const override { return shape_; }
  Status Run(const float* input, const Callback& fn) override {
    const std::string& in_name = g_.tensors[g_.input].name;
    if (input_wanted_) fn(in_name, input, onednn::NumElements(shape_));
    std::vector<float> out;
    return onednn::RefRun(g_, input, &out, [&](int t, const onednn::Tensor& v) {
      auto it = wanted_.find(t);
      if (it != wanted_.end() && v.dtype == onednn::DType::kFloat)
        fn(it->second, v.f.data(), static_cast<int64_t>(v.f.size()));
    });
  }

 private:
  onednn::Graph g_;
  std::map<int, std::string> wanted_;
  bool input_wanted_;
  std::vector<int64_t> shape_;
};

}  // namespace

Result<std::unique_ptr<TensorObserver>> OpenTensorObserver(const std::string& onnx_path,
                                                           const std::vector<std::string>& names,
                                                           int /*threads*/) {
  VQI_ASSIGN_OR_RETURN(onednn::Graph g, onednn::LoadOnnxFile(onnx_path));
  onednn::OptimizeOptions oo;
  oo.fuse = false;
  VQI_RETURN_IF_ERROR(onednn::OptimizeGraph(&g, oo));
  std::map<std::string, int> by_name;
  for (size_t t = 0; t < g.tensors.size(); ++t) by_name[g.tensors[t].name] = static_cast<int>(t);
  std::map<int, std::string> wanted;
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
    }
  }
  return std::unique_ptr<TensorObserver>(
      new RefObserverImpl(std::move(g), std::move(wanted), input_wanted));
}

}  // namespace vqi::infer
