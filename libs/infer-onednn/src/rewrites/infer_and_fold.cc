// InferAndFold: the static shape of every tensor (the operator table's shape inference), and
// every node whose inputs are all constant (and Shape of a static tensor) evaluated by its
// reference kernel into a constant. Tensor sizes are checked against kMaxTensorElements before
// anything is allocated, folded bytes against kMaxFoldedBytes.
#include "onednn_limits.h"
#include "ops.h"
#include "ops/common.h"
#include "passes.h"
#include "rewrites/common.h"

namespace vqi::infer::onednn {

using internal::ViewOf;

Status InferAndFold(Graph* g) {
  int64_t folded_bytes = 0;
  for (size_t k = 0; k < g->nodes.size(); ++k) {
    Node& n = g->nodes[k];
    if (n.dead) continue;
    std::vector<InValue> in;
    bool all_const = true;
    for (int t : n.in) {
      if (t < 0) {
        in.emplace_back();
        continue;
      }
      const Tensor& x = g->tensors[t];
      if (!x.shape_known) return Internal(n.Where() + ": input '" + x.name + "' has no shape");
      in.push_back(ViewOf(x));
      all_const = all_const && x.is_const;
    }
    std::vector<OutValue> out(n.out.size());
    VQI_RETURN_IF_ERROR(InferOp(n, g->opset, in, &out));
    for (size_t o = 0; o < out.size(); ++o)
      if (n.out[o] >= 0)
        VQI_RETURN_IF_ERROR(CheckTensorSize(n, g->tensors[n.out[o]], out[o].shape));
    for (size_t o = 0; o < out.size(); ++o) {
      if (n.out[o] < 0) continue;
      Tensor& t = g->tensors[n.out[o]];
      t.dtype = out[o].dtype;
      t.shape = out[o].shape;
      t.shape_known = true;
    }
    bool fold = all_const || n.op == "Shape";
    if (!fold) continue;  // (Shape reads only the input's shape, never its data)
    for (size_t o = 0; o < out.size(); ++o) {
      if (n.out[o] < 0) continue;
      Tensor& t = g->tensors[n.out[o]];
      int64_t cnt = NumElements(t.shape);
      folded_bytes += cnt * (t.dtype == DType::kFloat ? 4 : 8);
      if (folded_bytes > kMaxFoldedBytes)
        return ResourceExhausted(n.Where() + ": folding '" + t.name + "' brings the constants " +
                                 "computed at load above the limit of " +
                                 std::to_string(kMaxFoldedBytes) + " bytes" + kLimitsDoc);
      if (t.dtype == DType::kFloat) {
        t.f.assign(cnt, 0.f);
        out[o].f = t.f.data();
      } else {
        t.i.assign(cnt, 0);
        out[o].i = t.i.data();
      }
    }
    RefOp(n, g->opset, in, out);
    for (int t : n.out)
      if (t >= 0) g->tensors[t].is_const = true;
    if (n.op == "Constant" && n.Has("value"))
      g->tensors[n.out[0]].elem_type = n.attrs.at("value").t.elem_type;
    n.dead = true;
  }
  return Status::Ok();
}

}  // namespace vqi::infer::onednn
