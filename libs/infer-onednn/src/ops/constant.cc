// Constant, ConstantOfShape, Range: values known at load. Always folded (InferAndFold), so
// they never reach the lowering; their shape-deciding inputs must be constants.
#include <algorithm>
#include <cmath>

#include "ops/op.h"

namespace vqi::infer::onednn {
namespace {

using namespace internal;

// The value attribute of a Constant as a tensor (data and shape).
bool ConstantValue(const Node& n, Tensor* t) {
  if (n.Has("value")) {
    *t = n.attrs.at("value").t;
  } else if (n.Has("value_float")) {
    t->f = {n.Float("value_float", 0)};
  } else if (n.Has("value_floats")) {
    t->f = n.attrs.at("value_floats").floats;
    t->shape = {static_cast<int64_t>(t->f.size())};
  } else if (n.Has("value_int")) {
    t->dtype = DType::kInt64;
    t->i = {n.Int("value_int", 0)};
  } else if (n.Has("value_ints")) {
    t->dtype = DType::kInt64;
    t->i = n.Ints("value_ints");
    t->shape = {static_cast<int64_t>(t->i.size())};
  } else {
    return false;
  }
  return true;
}

Status InferConstant(const Node& n, int64_t, const std::vector<InValue>&,
                     std::vector<OutValue>& out) {
  Tensor t;
  if (!ConstantValue(n, &t)) return NodeError(n, "no supported value attribute");
  out[0].dtype = t.dtype;
  out[0].shape = t.shape;
  return Status::Ok();
}

void RefConstant(const Node& n, int64_t, const std::vector<InValue>&, std::vector<OutValue>& out) {
  Tensor t;
  (void)ConstantValue(n, &t);
  if (out[0].f) std::copy(t.f.begin(), t.f.end(), out[0].f);
  if (out[0].i) std::copy(t.i.begin(), t.i.end(), out[0].i);
}

Status InferConstantOfShape(const Node& n, int64_t, const std::vector<InValue>& in,
                            std::vector<OutValue>& out) {
  std::vector<int64_t> t;
  if (!ReadInts(in[0], &t)) return NodeError(n, "shape must be constant");
  for (int64_t d : t)
    if (d < 0 || d > (int64_t{1} << 30)) return NodeError(n, "bad dimension");
  out[0].dtype = n.Has("value") ? n.attrs.at("value").t.dtype : DType::kFloat;
  out[0].shape = t;
  return Status::Ok();
}

void RefConstantOfShape(const Node& n, int64_t, const std::vector<InValue>&,
                        std::vector<OutValue>& out) {
  OutValue& o = out[0];
  const Tensor* t = n.Has("value") ? &n.attrs.at("value").t : nullptr;
  const int64_t total = NumElements(o.shape);
  for (int64_t k = 0; k < total; ++k) {
    if (o.f) o.f[k] = t && !t->f.empty() ? t->f[0] : 0.f;
    if (o.i) o.i[k] = t && !t->i.empty() ? t->i[0] : 0;
  }
}

Status InferRange(const Node& n, int64_t, const std::vector<InValue>& in,
                  std::vector<OutValue>& out) {
  std::vector<float> v[3];
  for (int k = 0; k < 3; ++k)
    if (static_cast<int>(in.size()) <= k || !ReadFloats(in[k], &v[k]) || v[k].size() != 1)
      return NodeError(n, "start/limit/delta must be constant scalars");
  if (v[2][0] == 0) return NodeError(n, "delta is 0");
  double cnt = std::ceil((v[1][0] - v[0][0]) / v[2][0]);
  if (!(cnt <= (1 << 24))) return NodeError(n, "range too long (or not finite)");
  out[0].shape = {std::max<int64_t>(0, static_cast<int64_t>(cnt))};
  return Status::Ok();
}

void RefRange(const Node&, int64_t, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  const InValue& x = in[0];
  OutValue& o = out[0];
  double start = x.f ? x.f[0] : double(x.i[0]);
  double delta = in[2].f ? in[2].f[0] : double(in[2].i[0]);
  const int64_t total = NumElements(o.shape);
  for (int64_t k = 0; k < total; ++k) {
    if (o.f) o.f[k] = static_cast<float>(start + k * delta);
    if (o.i) o.i[k] = static_cast<int64_t>(start + k * delta);
  }
}

}  // namespace

void AddConstantOps(OpTable* t) {
  (*t)["Constant"] = {InferConstant, RefConstant, nullptr};
  (*t)["ConstantOfShape"] = {InferConstantOfShape, RefConstantOfShape, nullptr};
  (*t)["Range"] = {InferRange, RefRange, nullptr};
}

}  // namespace vqi::infer::onednn
