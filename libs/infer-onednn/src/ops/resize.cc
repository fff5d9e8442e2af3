// Resize / Upsample (nearest only; every coordinate transformation and rounding mode). Lowered
// to oneDNN's nearest resampling when its index mapping equals ours, else the reference kernel.
#include <algorithm>
#include <cmath>

#include "lowerer.h"
#include "ops/op.h"

namespace vqi::infer::onednn {

using namespace internal;

namespace {

// Resize: per-axis scales (out/in) and output shape.
Status ComputeResize(const Node& n, int64_t opset, const std::vector<InValue>& in,
                     std::vector<float>* scales, Shape* out) {
  const Shape& s = in[0].shape;
  std::vector<float> sc;
  std::vector<int64_t> sizes;
  int scales_idx = opset < 11 ? 1 : 2;
  if (n.op == "Upsample") scales_idx = 1;
  if (static_cast<int>(in.size()) > scales_idx && in[scales_idx].present &&
      NumElements(in[scales_idx].shape) > 0) {
    if (!ReadFloats(in[scales_idx], &sc)) return NodeError(n, "scales must be constant");
  } else if (n.op == "Upsample" && n.Has("scales")) {
    sc = n.attrs.at("scales").floats;
  } else if (in.size() > 3 && in[3].present) {
    if (!ReadInts(in[3], &sizes)) return NodeError(n, "sizes must be constant");
  } else {
    return NodeError(n, "neither scales nor sizes given");
  }
  if (!sc.empty() && sc.size() != s.size()) return NodeError(n, "scales rank mismatch");
  if (!sizes.empty() && sizes.size() != s.size()) return NodeError(n, "sizes rank mismatch");
  if (n.Str("mode", "nearest") != "nearest")
    return NodeError(n, "only mode 'nearest' is supported, not '" + n.Str("mode", "") + "'");
  out->resize(s.size());
  scales->resize(s.size());
  for (size_t k = 0; k < s.size(); ++k) {
    if (!sc.empty()) {
      if (!(sc[k] > 0) || sc[k] > 1024) return NodeError(n, "bad scale");
      (*out)[k] = static_cast<int64_t>(std::floor(s[k] * sc[k]));
      (*scales)[k] = sc[k];
    } else {
      if (sizes[k] <= 0 || sizes[k] > (int64_t{1} << 24)) return NodeError(n, "bad size");
      (*out)[k] = sizes[k];
      (*scales)[k] = static_cast<float>(sizes[k]) / static_cast<float>(s[k]);
    }
  }
  return Status::Ok();
}

}  // namespace

int64_t ResizeNearestIndex(const Node& n, int64_t o, int64_t in_size, int64_t out_size,
                           float scale) {
  std::string ct =
      n.Str("coordinate_transformation_mode", n.op == "Upsample" ? "asymmetric" : "half_pixel");
  std::string nm = n.Str("nearest_mode", n.op == "Upsample" ? "floor" : "round_prefer_floor");
  double x;
  if (ct == "asymmetric") {
    x = o / double(scale);
  } else if (ct == "align_corners") {
    x = out_size > 1 ? o * double(in_size - 1) / double(out_size - 1) : 0;
  } else if (ct == "pytorch_half_pixel") {
    x = out_size > 1 ? (o + 0.5) / scale - 0.5 : 0;
  } else if (ct == "tf_half_pixel_for_nn") {
    x = (o + 0.5) / scale;
  } else {
    x = (o + 0.5) / scale - 0.5;
  }
  int64_t r;
  if (nm == "floor") {
    r = static_cast<int64_t>(std::floor(x));
  } else if (nm == "ceil") {
    r = static_cast<int64_t>(std::ceil(x));
  } else if (nm == "round_prefer_ceil") {
    r = static_cast<int64_t>(std::floor(x + 0.5));
  } else {
    r = static_cast<int64_t>(std::ceil(x - 0.5));
  }
  return std::clamp<int64_t>(r, 0, in_size - 1);
}

namespace {

Status Infer(const Node& n, int64_t opset, const std::vector<InValue>& in,
             std::vector<OutValue>& out) {
  VQI_RETURN_IF_ERROR(NeedFloat(n, in, 0));
  std::vector<float> sc;
  return ComputeResize(n, opset, in, &sc, &out[0].shape);
}

void Ref(const Node& n, int64_t opset, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  const InValue& x = in[0];
  OutValue& o = out[0];
  const Shape& s = x.shape;
  std::vector<float> sc;
  Shape os;
  (void)ComputeResize(n, opset, in, &sc, &os);
  int64_t c[kMaxRank] = {0}, st[kMaxRank];
  RowStrides(s, st);
  int r = static_cast<int>(os.size());
  int64_t total = NumElements(o.shape);
  for (int64_t k = 0; k < total; ++k) {
    int64_t idx = 0;
    for (int d = 0; d < r; ++d) idx += ResizeNearestIndex(n, c[d], s[d], os[d], sc[d]) * st[d];
    o.f[k] = x.f[idx];
    for (int d = r - 1; d >= 0; --d) {
      if (++c[d] < os[d]) break;
      c[d] = 0;
    }
  }
}

bool MatchesOneDnn(const Lowerer& l, const Node& n) {
  const Shape& s = l.S(n.in[0]);
  const Shape& os = l.S(n.out[0]);
  if (s.size() != 4 || os[0] != s[0] || os[1] != s[1]) return false;
  std::vector<InValue> in;
  for (int t : n.in) {
    InValue v;
    if (t >= 0) {
      const Tensor& tt = l.graph().tensors[t];
      v.present = true;
      v.dtype = tt.dtype;
      v.shape = tt.shape;
      if (tt.dtype == DType::kFloat)
        v.f = tt.f.data();
      else
        v.i = tt.i.data();
      if (!tt.is_const) v.f = nullptr, v.i = nullptr;
    }
    in.push_back(v);
  }
  std::vector<float> sc;
  Shape out;
  if (!ComputeResize(n, l.opset(), in, &sc, &out).ok()) return false;
  for (int d = 2; d < 4; ++d)
    for (int64_t o = 0; o < os[d]; ++o) {
      int64_t ours = ResizeNearestIndex(n, o, s[d], os[d], sc[d]);
      int64_t dnnl = static_cast<int64_t>((o + 0.5) * double(s[d]) / double(os[d]));
      if (ours != std::min(dnnl, s[d] - 1)) return false;
    }
  return true;
}

Status Lower(Lowerer& l, int ni) {
  const Node& n = l.graph().nodes[ni];
  if (!MatchesOneDnn(l, n)) {
    l.LowerRef(ni);
    return Status::Ok();
  }
  int x = n.in[0];
  const Store st = l.Keep(x, n.out[0]);
  x = l.Want(x, l.L(x), st);
  l.Define(n.out[0], l.L(x), true, st);
  l.Emit(LOp{.kind = LKind::kResample, .node = ni, .in = {x}, .out = {n.out[0]}});
  return Status::Ok();
}

}  // namespace

void AddResizeOps(OpTable* t) {
  (*t)["Resize"] = {Infer, Ref, Lower};
  (*t)["Upsample"] = {Infer, Ref, Lower};
}

}  // namespace vqi::infer::onednn
