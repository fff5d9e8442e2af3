// BatchNormalization (inference form). Folded into the producing Conv by
// rewrites/fold_batch_norm.cc; otherwise the reference kernel runs as a step.
#include <cmath>

#include "ops/op.h"

namespace vqi::infer::onednn {
namespace {

using namespace internal;

Status Infer(const Node& n, int64_t, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  VQI_RETURN_IF_ERROR(NeedFloat(n, in, 0));
  const Shape& s = in[0].shape;
  if (s.size() < 2 || in.size() < 5) return NodeError(n, "needs X, scale, B, mean, var");
  for (int k = 1; k < 5; ++k)
    if (!in[k].present || in[k].shape != Shape{s[1]} || in[k].dtype != DType::kFloat)
      return NodeError(n, "parameter " + std::to_string(k) + " should have shape [" +
                              std::to_string(s[1]) + "]");
  for (size_t k = 1; k < out.size(); ++k)
    if (n.out[k] >= 0) return NodeError(n, "training-mode outputs not supported");
  out[0].shape = s;
  return Status::Ok();
}

void Ref(const Node& n, int64_t, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  const InValue& x = in[0];
  OutValue& o = out[0];
  const Shape& s = x.shape;
  const int64_t total = NumElements(o.shape);
  float eps = n.Float("epsilon", 1e-5f);
  if (total == 0) return;
  int64_t c = s[1], inner = total / (s[0] * c);
  for (int64_t b = 0; b < s[0]; ++b)
    for (int64_t ch = 0; ch < c; ++ch) {
      float a = in[1].f[ch] / std::sqrt(in[4].f[ch] + eps);
      float bb = in[2].f[ch] - in[3].f[ch] * a;
      float* q = o.f + (b * c + ch) * inner;
      const float* p = x.f + (b * c + ch) * inner;
      for (int64_t k = 0; k < inner; ++k) q[k] = p[k] * a + bb;
    }
}

}  // namespace

void AddBatchNormOps(OpTable* t) { (*t)["BatchNormalization"] = {Infer, Ref, nullptr}; }

}  // namespace vqi::infer::onednn
