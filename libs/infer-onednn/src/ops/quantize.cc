// QuantizeLinear / DequantizeLinear as fake quantization on floats (the reference; the
// QuantizeLinear output holds the integers as floats): q = clamp(round_half_even(x/s) + zp),
// dq = (q - zp) * s, per tensor or per axis. In compiled models the pairs are folded away by
// rewrites/fold_qdq.cc (scales kept on the tensors, int8 weights on the convs).
#include <algorithm>
#include <cmath>

#include "ops/op.h"

namespace vqi::infer::onednn {
namespace {

using namespace internal;

Status Infer(const Node& n, int64_t, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  const Shape& s = in[0].shape;
  if (n.op == "QuantizeLinear") VQI_RETURN_IF_ERROR(NeedFloat(n, in, 0));
  if (in.size() < 2 || !in[1].present) return NodeError(n, "missing scale input");
  VQI_RETURN_IF_ERROR(NeedFloat(n, in, 1));
  int64_t cnt = NumElements(in[1].shape);
  if (in[1].shape.size() > 1) return NodeError(n, "scale must be a scalar or 1-D");
  if (cnt != 1) {
    int64_t axis = n.Int("axis", 1);
    if (!NormAxis(&axis, static_cast<int64_t>(s.size()))) return NodeError(n, "axis out of range");
    if (cnt != s[axis])
      return NodeError(n, "scale has " + std::to_string(cnt) + " values, axis " +
                              std::to_string(axis) + " has " + std::to_string(s[axis]));
  }
  if (in.size() > 2 && in[2].present && in[2].shape != in[1].shape)
    return NodeError(n, "zero point shape " + ShapeString(in[2].shape) +
                            " does not match scale shape " + ShapeString(in[1].shape));
  out[0].dtype = DType::kFloat;
  out[0].shape = s;
  return Status::Ok();
}

void Ref(const Node& n, int64_t, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  // Per tensor (one scale) or per axis; zero point absent = 0 (and uint8 for QuantizeLinear).
  const InValue& x = in[0];
  OutValue& o = out[0];
  const Shape& s = x.shape;
  const InValue& sc = in[1];
  const InValue* zp = in.size() > 2 && in[2].present ? &in[2] : nullptr;
  int64_t cnt = NumElements(sc.shape), inner = 1, dim = 1;
  if (cnt != 1) {
    int64_t axis = n.Int("axis", 1);
    NormAxis(&axis, static_cast<int64_t>(s.size()));
    dim = s[axis];
    for (size_t d = axis + 1; d < s.size(); ++d) inner *= s[d];
  }
  bool u8 = !zp || zp->elem_type == 2;  // onnx::TensorProto::UINT8
  float lo = u8 ? 0.f : -128.f, hi = u8 ? 255.f : 127.f;
  const int64_t total = NumElements(o.shape);
  for (int64_t k = 0; k < total; ++k) {
    int64_t c = cnt == 1 ? 0 : (k / inner) % dim;
    float scale = sc.f[c];
    float z = !zp ? 0.f : zp->i ? static_cast<float>(zp->i[c]) : zp->f[c];
    if (n.op == "QuantizeLinear") {
      o.f[k] = std::clamp(std::nearbyint(x.f[k] / scale) + z, lo, hi);
    } else {
      float v = x.i ? static_cast<float>(x.i[k]) : x.f[k];
      o.f[k] = (v - z) * scale;
    }
  }
}

}  // namespace

void AddQuantizeOps(OpTable* t) {
  (*t)["QuantizeLinear"] = {Infer, Ref, nullptr};
  (*t)["DequantizeLinear"] = {Infer, Ref, nullptr};
}

}  // namespace vqi::infer::onednn
