// Softmax (opset < 13: coerced to 2-D at the axis; opset >= 13: one axis). Over the innermost
// axis a oneDNN softmax; over another axis (the DFL head, axis 1 of [1,16,4,N]) our own
// strided loop (softmax_strided.cc): oneDNN 2.6 has only ref:any there on plain layouts.
#include <algorithm>
#include <cmath>
#include <limits>

#include "lowerer.h"
#include "ops/op.h"

namespace vqi::infer::onednn {
namespace {

using namespace internal;

Status Infer(const Node& n, int64_t opset, const std::vector<InValue>& in,
             std::vector<OutValue>& out) {
  VQI_RETURN_IF_ERROR(NeedFloat(n, in, 0));
  int64_t axis = n.Int("axis", opset >= 13 ? -1 : 1);
  if (!NormAxis(&axis, static_cast<int64_t>(in[0].shape.size())))
    return NodeError(n, "bad softmax axis");
  out[0].shape = in[0].shape;
  return Status::Ok();
}

void Ref(const Node& n, int64_t opset, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  const InValue& x = in[0];
  OutValue& o = out[0];
  const Shape& s = x.shape;
  int64_t rank = static_cast<int64_t>(s.size());
  int64_t axis = n.Int("axis", opset >= 13 ? -1 : 1);
  NormAxis(&axis, rank);
  int64_t outer = 1, len = 1, inner = 1;
  for (int64_t k = 0; k < rank; ++k) (k < axis ? outer : k == axis ? len : inner) *= s[k];
  if (opset < 13) {  // coerced to 2-D: [outer, everything else]
    len *= inner;
    inner = 1;
  }
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t b = 0; b < inner; ++b) {
      const float* p = x.f + a * len * inner + b;
      float* q = o.f + a * len * inner + b;
      float m = -std::numeric_limits<float>::infinity();
      for (int64_t k = 0; k < len; ++k) m = std::max(m, p[k * inner]);
      double sum = 0;
      for (int64_t k = 0; k < len; ++k) sum += std::exp(double(p[k * inner]) - m);
      for (int64_t k = 0; k < len; ++k)
        q[k * inner] = static_cast<float>(std::exp(double(p[k * inner]) - m) / sum);
    }
}

Status Lower(Lowerer& l, int ni) {
  const Node& n = l.graph().nodes[ni];
  int x = n.in[0];
  int64_t axis = n.Int("axis", l.opset() >= 13 ? -1 : 1);
  NormAxis(&axis, static_cast<int64_t>(l.S(x).size()));
  int px = l.Want(x, Layout::kPlain);
  int64_t rank = static_cast<int64_t>(l.S(px).size());
  bool strided = l.opset() >= 13 && axis + 1 < rank;
  l.Define(n.out[0], Layout::kPlain);
  l.Emit(LOp{.kind = strided ? LKind::kSoftmaxStrided : LKind::kSoftmax,
             .node = ni,
             .in = {px},
             .out = {n.out[0]},
             .axis = static_cast<int>(axis)});
  return Status::Ok();
}

}  // namespace

void AddSoftmaxOps(OpTable* t) { (*t)["Softmax"] = {Infer, Ref, Lower}; }

}  // namespace vqi::infer::onednn
