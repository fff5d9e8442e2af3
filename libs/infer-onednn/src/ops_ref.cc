// Naive reference kernels (plain row-major). Slow by design; clarity over speed.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "ops_internal.h"

namespace vqi::infer::onednn {

using namespace internal;

namespace {

constexpr int kMaxRank = 8;

// Row-major strides of `s` aligned to rank `r` (leading broadcast dims get stride 0), with
// stride 0 where the dim is 1 and the target dim is larger.
void BroadcastStrides(const Shape& s, const Shape& target, int64_t* st) {
  size_t r = target.size(), off = r - s.size();
  int64_t acc = 1;
  for (size_t k = r; k-- > 0;) {
    if (k < off) {
      st[k] = 0;
      continue;
    }
    int64_t d = s[k - off];
    st[k] = (d == 1 && target[k] != 1) ? 0 : acc;
    acc *= d;
  }
}

template <typename T, typename F>
void BinaryLoop(const Shape& os, const Shape& as, const Shape& bs, const T* a, const T* b, T* o,
                F f) {
  int64_t sa[kMaxRank], sb[kMaxRank], c[kMaxRank] = {0};
  BroadcastStrides(as, os, sa);
  BroadcastStrides(bs, os, sb);
  int r = static_cast<int>(os.size());
  int64_t n = NumElements(os), ia = 0, ib = 0;
  for (int64_t k = 0; k < n; ++k) {
    o[k] = f(a[ia], b[ib]);
    for (int d = r - 1; d >= 0; --d) {
      ++c[d];
      ia += sa[d];
      ib += sb[d];
      if (c[d] < os[d]) break;
      ia -= sa[d] * os[d];
      ib -= sb[d] * os[d];
      c[d] = 0;
    }
  }
}

template <typename T>
void Binary(const std::string& op, const Shape& os, const InValue& a, const InValue& b, T* o,
            const T* pa, const T* pb) {
  if (op == "Add") BinaryLoop(os, a.shape, b.shape, pa, pb, o, [](T x, T y) { return x + y; });
  if (op == "Sub") BinaryLoop(os, a.shape, b.shape, pa, pb, o, [](T x, T y) { return x - y; });
  if (op == "Mul") BinaryLoop(os, a.shape, b.shape, pa, pb, o, [](T x, T y) { return x * y; });
  if (op == "Div")
    BinaryLoop(os, a.shape, b.shape, pa, pb, o, [](T x, T y) { return y == T(0) ? T(0) : x / y; });
  if (op == "Pow")
    BinaryLoop(os, a.shape, b.shape, pa, pb, o,
               [](T x, T y) { return static_cast<T>(std::pow(double(x), double(y))); });
}

float Act(const std::string& op, float x, float alpha, float beta) {
  if (op == "Sigmoid") return 1.f / (1.f + std::exp(-x));
  if (op == "Relu") return x > 0 ? x : 0;
  if (op == "LeakyRelu") return x > 0 ? x : alpha * x;
  if (op == "HardSigmoid") return std::max(0.f, std::min(1.f, alpha * x + beta));
  if (op == "HardSwish") return x * std::max(0.f, std::min(1.f, x / 6.f + 0.5f));
  if (op == "Clip") return std::min(std::max(x, alpha), beta);
  if (op == "Exp") return std::exp(x);
  if (op == "Neg") return -x;
  if (op == "Sqrt") return std::sqrt(x);
  if (op == "Floor") return std::floor(x);
  if (op == "Ceil") return std::ceil(x);
  return x;
}

// Copies a strided view: out[k] = in[offset + sum(coord_d * stride_d)].
template <typename T>
void Gathered(const Shape& os, const int64_t* st, int64_t offset, const T* in, T* out) {
  int64_t c[kMaxRank] = {0};
  int r = static_cast<int>(os.size());
  int64_t n = NumElements(os), idx = offset;
  for (int64_t k = 0; k < n; ++k) {
    out[k] = in[idx];
    for (int d = r - 1; d >= 0; --d) {
      ++c[d];
      idx += st[d];
      if (c[d] < os[d]) break;
      idx -= st[d] * os[d];
      c[d] = 0;
    }
  }
}

void RowStrides(const Shape& s, int64_t* st) {
  int64_t acc = 1;
  for (size_t k = s.size(); k-- > 0;) {
    st[k] = acc;
    acc *= s[k];
  }
}

template <typename T>
void CopyView(const InValue& in, const Shape& os, const int64_t* st, int64_t off, OutValue& o) {
  if (in.f)
    Gathered(os, st, off, in.f, o.f);
  else
    Gathered(os, st, off, in.i, o.i);
}

void ConvRef(const Node& n, const std::vector<InValue>& in, OutValue& o) {
  const Shape& s = in[0].shape;
  const Shape& w = in[1].shape;
  int64_t group = n.Int("group", 1);
  Window win;
  (void)ComputeWindow(n, s[2], s[3], w[2], w[3], false, &win);
  int64_t cin_g = w[1], cout_g = w[0] / group;
  for (int64_t b = 0; b < s[0]; ++b)
    for (int64_t oc = 0; oc < w[0]; ++oc) {
      int64_t g = oc / cout_g;
      float bias = (in.size() > 2 && in[2].present) ? in[2].f[oc] : 0.f;
      for (int64_t oy = 0; oy < win.oh; ++oy)
        for (int64_t ox = 0; ox < win.ow; ++ox) {
          double acc = bias;
          for (int64_t ic = 0; ic < cin_g; ++ic)
            for (int64_t ky = 0; ky < w[2]; ++ky) {
              int64_t iy = oy * win.sh - win.pt + ky * win.dh;
              if (iy < 0 || iy >= s[2]) continue;
              for (int64_t kx = 0; kx < w[3]; ++kx) {
                int64_t ix = ox * win.sw - win.pl + kx * win.dw;
                if (ix < 0 || ix >= s[3]) continue;
                acc += double(in[0].f[((b * s[1] + g * cin_g + ic) * s[2] + iy) * s[3] + ix]) *
                       in[1].f[((oc * w[1] + ic) * w[2] + ky) * w[3] + kx];
              }
            }
          o.f[((b * w[0] + oc) * win.oh + oy) * win.ow + ox] = static_cast<float>(acc);
        }
    }
}

void MaxPoolRef(const Node& n, const InValue& x, OutValue& o) {
  const Shape& s = x.shape;
  auto ks = n.Ints("kernel_shape");
  Window win;
  (void)ComputeWindow(n, s[2], s[3], ks[0], ks[1], n.Int("ceil_mode", 0), &win);
  for (int64_t bc = 0; bc < s[0] * s[1]; ++bc)
    for (int64_t oy = 0; oy < win.oh; ++oy)
      for (int64_t ox = 0; ox < win.ow; ++ox) {
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t ky = 0; ky < win.kh; ++ky) {
          int64_t iy = oy * win.sh - win.pt + ky * win.dh;
          if (iy < 0 || iy >= s[2]) continue;
          for (int64_t kx = 0; kx < win.kw; ++kx) {
            int64_t ix = ox * win.sw - win.pl + kx * win.dw;
            if (ix < 0 || ix >= s[3]) continue;
            m = std::max(m, x.f[(bc * s[2] + iy) * s[3] + ix]);
          }
        }
        o.f[(bc * win.oh + oy) * win.ow + ox] = m;
      }
}

void SoftmaxRef(const Node& n, int64_t opset, const InValue& x, OutValue& o) {
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

void RefOp(const Node& n, int64_t opset, const std::vector<InValue>& in,
           std::vector<OutValue>& out) {
  const std::string& op = n.op;
  OutValue& o = out[0];
  const InValue& x = in.empty() ? InValue{} : in[0];
  const Shape& s = x.shape;
  int64_t total = NumElements(o.shape);
  int64_t st[kMaxRank];

  if (op == "Conv") {
    ConvRef(n, in, o);
  } else if (op == "MaxPool") {
    MaxPoolRef(n, x, o);
  } else if (op == "Resize" || op == "Upsample") {
    std::vector<float> sc;
    Shape os;
    (void)ComputeResize(n, opset, in, &sc, &os);
    int64_t c[kMaxRank] = {0};
    RowStrides(s, st);
    int r = static_cast<int>(os.size());
    for (int64_t k = 0; k < total; ++k) {
      int64_t idx = 0;
      for (int d = 0; d < r; ++d) idx += ResizeNearestIndex(n, c[d], s[d], os[d], sc[d]) * st[d];
      o.f[k] = x.f[idx];
      for (int d = r - 1; d >= 0; --d) {
        if (++c[d] < os[d]) break;
        c[d] = 0;
      }
    }
  } else if (op == "Concat") {
    int64_t axis = n.Int("axis", 0);
    NormAxis(&axis, static_cast<int64_t>(s.size()));
    int64_t outer = 1, inner = 1;
    for (size_t k = 0; k < s.size(); ++k) {
      if (static_cast<int64_t>(k) < axis) outer *= s[k];
      if (static_cast<int64_t>(k) > axis) inner *= s[k];
    }
    int64_t oaxis = o.shape[axis], pos = 0;
    for (const auto& v : in) {
      if (!v.present) continue;
      int64_t len = v.shape[axis] * inner;
      for (int64_t a = 0; a < outer; ++a) {
        if (o.f)
          std::memcpy(o.f + a * oaxis * inner + pos, v.f + a * len, len * sizeof(float));
        else
          std::memcpy(o.i + a * oaxis * inner + pos, v.i + a * len, len * sizeof(int64_t));
      }
      pos += len;
    }
  } else if (op == "Split" || op == "Slice") {
    int64_t r = static_cast<int64_t>(s.size());
    int64_t rs[kMaxRank];
    RowStrides(s, rs);
    if (op == "Slice") {
      std::vector<SliceAxis> ax;
      (void)ComputeSlice(n, opset, in, &ax);
      int64_t off = 0;
      for (int64_t d = 0; d < r; ++d) {
        off += ax[d].start * rs[d];
        st[d] = ax[d].step * rs[d];
      }
      if (total) CopyView<float>(x, o.shape, st, off, o);
    } else {
      int64_t axis;
      std::vector<int64_t> sizes;
      (void)ComputeSplit(n, opset, in, &axis, &sizes);
      int64_t start = 0;
      for (size_t k = 0; k < out.size(); ++k) {
        if (out[k].f || out[k].i)
          if (NumElements(out[k].shape))
            CopyView<float>(x, out[k].shape, rs, start * rs[axis], out[k]);
        start += sizes[k];
      }
    }
  } else if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Pow") {
    if (o.f)
      Binary<float>(op, o.shape, in[0], in[1], o.f, in[0].f, in[1].f);
    else
      Binary<int64_t>(op, o.shape, in[0], in[1], o.i, in[0].i, in[1].i);
  } else if (op == "Identity" || op == "Reshape" || op == "Flatten" || op == "Unsqueeze" ||
             op == "Squeeze") {
    if (o.f)
      std::memcpy(o.f, x.f, total * sizeof(float));
    else
      std::memcpy(o.i, x.i, total * sizeof(int64_t));
  } else if (op == "Neg" && o.i) {
    for (int64_t k = 0; k < total; ++k) o.i[k] = -x.i[k];
  } else if (op == "Clip" && o.i) {
    int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
    if (in.size() > 1 && in[1].present) lo = in[1].i[0];
    if (in.size() > 2 && in[2].present) hi = in[2].i[0];
    for (int64_t k = 0; k < total; ++k) o.i[k] = std::clamp(x.i[k], lo, hi);
  } else if (op == "Sigmoid" || op == "Relu" || op == "LeakyRelu" || op == "HardSwish" ||
             op == "HardSigmoid" || op == "Clip" || op == "Exp" || op == "Neg" || op == "Sqrt" ||
             op == "Floor" || op == "Ceil") {
    float alpha = n.Float("alpha", op == "LeakyRelu" ? 0.01f : 0.2f);
    float beta = n.Float("beta", 0.5f);
    if (op == "Clip") {
      alpha = n.Float("min", -std::numeric_limits<float>::infinity());
      beta = n.Float("max", std::numeric_limits<float>::infinity());
      if (in.size() > 1 && in[1].present) alpha = in[1].f[0];
      if (in.size() > 2 && in[2].present) beta = in[2].f[0];
    }
    for (int64_t k = 0; k < total; ++k) o.f[k] = Act(op, x.f[k], alpha, beta);
  } else if (op == "Softmax") {
    SoftmaxRef(n, opset, x, o);
  } else if (op == "Transpose") {
    auto perm = n.Ints("perm");
    int64_t r = static_cast<int64_t>(s.size());
    if (perm.empty())
      for (int64_t k = r - 1; k >= 0; --k) perm.push_back(k);
    int64_t rs[kMaxRank];
    RowStrides(s, rs);
    for (int64_t k = 0; k < r; ++k) st[k] = rs[perm[k]];
    CopyView<float>(x, o.shape, st, 0, o);
  } else if (op == "Constant") {
    Tensor t;
    if (n.Has("value")) {
      t = n.attrs.at("value").t;
    } else if (n.Has("value_float")) {
      t.f = {n.Float("value_float", 0)};
    } else if (n.Has("value_floats")) {
      t.f = n.attrs.at("value_floats").floats;
    } else if (n.Has("value_int")) {
      t.i = {n.Int("value_int", 0)};
    } else {
      t.i = n.Ints("value_ints");
    }
    if (o.f) std::copy(t.f.begin(), t.f.end(), o.f);
    if (o.i) std::copy(t.i.begin(), t.i.end(), o.i);
  } else if (op == "Shape") {
    int64_t r = static_cast<int64_t>(s.size());
    int64_t b = n.Int("start", 0);
    if (b < 0) b += r;
    b = std::clamp<int64_t>(b, 0, r);
    for (int64_t k = 0; k < total; ++k) o.i[k] = s[b + k];
  } else if (op == "Gather") {
    int64_t axis = n.Int("axis", 0);
    NormAxis(&axis, static_cast<int64_t>(s.size()));
    int64_t outer = 1, inner = 1;
    for (size_t k = 0; k < s.size(); ++k) {
      if (static_cast<int64_t>(k) < axis) outer *= s[k];
      if (static_cast<int64_t>(k) > axis) inner *= s[k];
    }
    int64_t ni = NumElements(in[1].shape), dim = s[axis];
    for (int64_t a = 0; a < outer; ++a)
      for (int64_t j = 0; j < ni; ++j) {
        int64_t id = in[1].i[j] < 0 ? in[1].i[j] + dim : in[1].i[j];
        for (int64_t b = 0; b < inner; ++b) {
          int64_t src = (a * dim + id) * inner + b, dst = (a * ni + j) * inner + b;
          if (o.f)
            o.f[dst] = x.f[src];
          else
            o.i[dst] = x.i[src];
        }
      }
  } else if (op == "Cast") {
    // At run time integer tensors are carried as floats holding integral values (the output
    // boundary of files declaring int64 outputs): a cast to an integer type truncates toward
    // zero (bool: != 0) in either representation.
    const int64_t to = n.Int("to", 1);
    const bool to_int = to != 1 && to != 10 && to != 11 && to != 16;
    const bool to_bool = to == 9;
    for (int64_t k = 0; k < total; ++k) {
      double v = x.f ? double(x.f[k]) : double(x.i[k]);
      if (to_bool) v = v != 0;
      if (o.f)
        o.f[k] = static_cast<float>(to_int ? std::trunc(v) : v);
      else if (!x.f)
        o.i[k] = to_bool ? x.i[k] != 0 : x.i[k];
      else  // saturating (a float outside int64, or NaN, must not be undefined behaviour)
        o.i[k] = !(std::fabs(v) < 9.2e18) ? (v > 0 ? INT64_MAX : v < 0 ? INT64_MIN : 0)
                                           : static_cast<int64_t>(v);
    }
  } else if (op == "ConstantOfShape") {
    const Tensor* t = n.Has("value") ? &n.attrs.at("value").t : nullptr;
    for (int64_t k = 0; k < total; ++k) {
      if (o.f) o.f[k] = t && !t->f.empty() ? t->f[0] : 0.f;
      if (o.i) o.i[k] = t && !t->i.empty() ? t->i[0] : 0;
    }
  } else if (op == "Range") {
    double start = x.f ? x.f[0] : double(x.i[0]);
    double delta = in[2].f ? in[2].f[0] : double(in[2].i[0]);
    for (int64_t k = 0; k < total; ++k) {
      if (o.f) o.f[k] = static_cast<float>(start + k * delta);
      if (o.i) o.i[k] = static_cast<int64_t>(start + k * delta);
    }
  } else if (op == "Expand") {
    BroadcastStrides(s, o.shape, st);
    CopyView<float>(x, o.shape, st, 0, o);
  } else if (op == "QuantizeLinear" || op == "DequantizeLinear") {
    // Per tensor (one scale) or per axis; zero point absent = 0 (and uint8 for QuantizeLinear).
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
    for (int64_t k = 0; k < total; ++k) {
      int64_t c = cnt == 1 ? 0 : (k / inner) % dim;
      float scale = sc.f[c];
      float z = !zp ? 0.f : zp->i ? static_cast<float>(zp->i[c]) : zp->f[c];
      if (op == "QuantizeLinear") {
        o.f[k] = std::clamp(std::nearbyint(x.f[k] / scale) + z, lo, hi);
      } else {
        float v = x.i ? static_cast<float>(x.i[k]) : x.f[k];
        o.f[k] = (v - z) * scale;
      }
    }
  } else if (op == "BatchNormalization") {
    float eps = n.Float("epsilon", 1e-5f);
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
}

Status RefRun(const Graph& g, const float* input, std::vector<float>* output,
              const RefObserver& observe) {
  std::vector<Tensor> vals = g.tensors;
  Tensor& inp = vals[g.input];
  inp.f.assign(input, input + NumElements(inp.shape));
  inp.shape_known = true;
  for (const Node& n : g.nodes) {
    if (n.dead) continue;
    std::vector<InValue> in;
    for (int t : n.in) {
      InValue v;
      if (t >= 0) {
        const Tensor& x = vals[t];
        v.present = true;
        v.dtype = x.dtype;
        v.shape = x.shape;
        v.elem_type = x.elem_type;
        if (x.dtype == DType::kFloat)
          v.f = x.f.data();
        else
          v.i = x.i.data();
        if (NumElements(x.shape) == 0) v.f = v.f ? v.f : reinterpret_cast<const float*>(&x);
      }
      in.push_back(v);
    }
    std::vector<OutValue> out(n.out.size());
    VQI_RETURN_IF_ERROR(InferOp(n, g.opset, in, &out));
    for (size_t k = 0; k < out.size(); ++k)
      if (n.out[k] >= 0) VQI_RETURN_IF_ERROR(CheckTensorSize(n, vals[n.out[k]], out[k].shape));
    for (size_t k = 0; k < out.size(); ++k) {
      if (n.out[k] < 0) continue;
      Tensor& t = vals[n.out[k]];
      t.dtype = out[k].dtype;
      t.shape = out[k].shape;
      int64_t cnt = NumElements(t.shape);
      if (t.dtype == DType::kFloat) {
        t.f.assign(cnt, 0.f);
        out[k].f = t.f.data();
      } else {
        t.i.assign(cnt, 0);
        out[k].i = t.i.data();
      }
    }
    RefOp(n, g.opset, in, out);
    if (n.op == "Constant" && n.Has("value"))
      vals[n.out[0]].elem_type = n.attrs.at("value").t.elem_type;
    if (observe)
      for (int t : n.out)
        if (t >= 0) observe(t, vals[t]);
  }
  const Tensor& o = vals[g.output];
  if (o.dtype == DType::kFloat)
    *output = o.f;
  else  // an int64 output is handed out as float (the boundary conversion of the backend)
    output->assign(o.i.begin(), o.i.end());
  return Status::Ok();
}

}  // namespace vqi::infer::onednn
