// Cast between float (float16/32/64 all computed as float32) and integer types (int64 when
// folded). At run time integer tensors are carried as floats holding integral values: only at
// the output boundary (a file declaring an int64 output; see Lowerer::CastAtBoundary), where
// a cast to an integer type truncates toward zero (bool: != 0), as ONNX Runtime does.
#include <cmath>
#include <cstdint>

#include "ops/op.h"

namespace vqi::infer::onednn {
namespace {

bool IsFloatType(int64_t to) { return to == 1 || to == 10 || to == 11 || to == 16; }

Status Infer(const Node& n, int64_t, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  out[0].dtype = IsFloatType(n.Int("to", 1)) ? DType::kFloat : DType::kInt64;
  out[0].shape = in[0].shape;
  return Status::Ok();
}

void Ref(const Node& n, int64_t, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  const InValue& x = in[0];
  OutValue& o = out[0];
  const int64_t to = n.Int("to", 1);
  const bool to_int = !IsFloatType(to);
  const bool to_bool = to == 9;  // onnx::TensorProto::BOOL
  const int64_t total = NumElements(o.shape);
  for (int64_t k = 0; k < total; ++k) {
    double v = x.f ? double(x.f[k]) : double(x.i[k]);
    if (to_bool) v = v != 0;
    if (o.f)
      o.f[k] = static_cast<float>(to_int ? std::trunc(v) : v);
    else if (!x.f)
      o.i[k] = to_bool ? x.i[k] != 0 : x.i[k];
    else  // saturating: a float outside int64, or NaN, must not be undefined behaviour
      o.i[k] = !(std::fabs(v) < 9.2e18) ? (v > 0   ? INT64_MAX
                                           : v < 0 ? INT64_MIN
                                                   : 0)
                                        : static_cast<int64_t>(v);
  }
}

}  // namespace

void AddCastOps(OpTable* t) { (*t)["Cast"] = {Infer, Ref, nullptr}; }

}  // namespace vqi::infer::onednn
