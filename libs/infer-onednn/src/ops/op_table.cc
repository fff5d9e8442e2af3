// The operator table and the entry points over it (ops.h): InferOp, RefOp, IsSupportedOp.
#include "onednn_limits.h"
#include "ops/common.h"
#include "ops/op.h"

namespace vqi::infer::onednn {

using internal::NodeError;

const OpDef* FindOp(const std::string& op) {
  static const OpTable* table = [] {
    auto* t = new OpTable();
    AddBatchNormOps(t);
    AddBinaryOps(t);
    AddCastOps(t);
    AddConcatOps(t);
    AddConstantOps(t);
    AddConvOps(t);
    AddDetectDecodeOps(t);
    AddEltwiseOps(t);
    AddMaxPoolOps(t);
    AddQuantizeOps(t);
    AddReshapeOps(t);
    AddResizeOps(t);
    AddShapeOps(t);
    AddSliceOps(t);
    AddSoftmaxOps(t);
    AddSplitOps(t);
    AddTransposeOps(t);
    return t;
  }();
  auto it = table->find(op);
  return it == table->end() ? nullptr : &it->second;
}

bool IsSupportedOp(const std::string& op) {
  const OpDef* def = FindOp(op);
  return def != nullptr && !def->internal;
}

Status InferOp(const Node& n, int64_t opset, const std::vector<InValue>& in,
               std::vector<OutValue>* out) {
  const OpDef* def = FindOp(n.op);
  if (!def) return Unimplemented(n.Where() + ": unsupported operator '" + n.op + "'");
  if (n.op != "Constant" && (in.empty() || !in[0].present))
    return NodeError(n, "missing first input");
  if (out->empty() || n.out.size() != out->size() || n.out[0] < 0)
    return NodeError(n, "has no (first) output");
  for (auto& o : *out) o.dtype = in.empty() ? DType::kFloat : in[0].dtype;
  VQI_RETURN_IF_ERROR(def->infer(n, opset, in, *out));
  // Only Split defines more than one output; extra outputs of other ops (MaxPool's Indices,
  // BatchNormalization's training outputs refuse themselves above) are not computed.
  if (n.op != "Split")
    for (size_t k = 1; k < n.out.size(); ++k)
      if (n.out[k] >= 0)
        return NodeError(n, "output " + std::to_string(k) + " is not supported (only one)");
  for (const OutValue& o : *out) {
    if (o.shape.size() > static_cast<size_t>(kMaxTensorRank))
      return NodeError(n, "rank above " + std::to_string(kMaxTensorRank) + " not supported");
    for (int64_t d : o.shape)
      if (d < 0) return NodeError(n, "negative output dimension");
  }
  return Status::Ok();
}

Status CheckTensorSize(const Node& n, const Tensor& t, const Shape& shape) {
  if (NumElements(shape) <= kMaxTensorElements) return Status::Ok();
  return ResourceExhausted(n.Where() + ": output '" + t.name + "' of shape " + ShapeString(shape) +
                           " exceeds the limit of " + std::to_string(kMaxTensorElements) +
                           " elements per tensor" + kLimitsDoc);
}

void RefOp(const Node& n, int64_t opset, const std::vector<InValue>& in,
           std::vector<OutValue>& out) {
  FindOp(n.op)->ref(n, opset, in, out);
}

}  // namespace vqi::infer::onednn
