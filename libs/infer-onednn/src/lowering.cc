// Layout planning, views and in-place concats (Lower), and the arena plan (PlanMemory).
#include "lowering.h"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <map>
#include <tuple>

#include "onednn_limits.h"
#include "ops.h"
#include "ops_internal.h"

namespace vqi::infer::onednn {

using dnnl::memory;

namespace {

std::vector<int64_t> RowStrides(const Shape& s) {
  std::vector<int64_t> st(s.size(), 1);
  for (size_t k = s.size(); k-- > 1;) st[k - 1] = st[k] * s[k];
  return st;
}

int64_t Prod(const Shape& s, size_t from, size_t to) {
  int64_t n = 1;
  for (size_t k = from; k < to && k < s.size(); ++k) n *= s[k];
  return n;
}

class Lowerer {
 public:
  explicit Lowerer(Program* p) : p_(p), g_(p->g) {}

  Status Run();

 private:
  const Shape& S(int t) const { return g_.tensors[t].shape; }
  Layout L(int t) const { return p_->tp[t].layout; }
  bool Rt(int t) const { return t >= 0 && p_->tp[t].runtime; }

  int NewTensor(const Tensor& like, const std::string& suffix) {
    Tensor t;
    t.name = like.name + suffix;
    t.dtype = like.dtype;
    t.shape = like.shape;
    t.shape_known = true;
    int id = p_->g.AddTensor(std::move(t));
    p_->tp.emplace_back();
    return id;
  }
  void Define(int t, Layout l, bool fresh = true, bool s8 = false) {
    p_->tp[t].runtime = true;
    p_->tp[t].layout = l;
    p_->tp[t].fresh = fresh;
    p_->tp[t].s8 = s8;
    p_->tp[t].scale = s8 ? g_.tensors[t].qscale : 0.f;
  }
  bool S8(int t) const { return t >= 0 && p_->tp[t].s8; }
  float Q(int t) const { return g_.tensors[t].qscale; }
  int64_t Es(int t) const { return S8(t) ? 1 : 4; }
  // `t` in layout `l` and type (f32, or s8 with the tensor's scale), inserting one copy per
  // (tensor, layout, type); a type change is a quantizing or dequantizing reorder.
  // REQUIRES: s8 only for tensors with a scale.
  int Want(int t, Layout l, bool s8 = false) {
    if (!Rt(t) || (L(t) == l && S8(t) == s8)) return t;
    auto key = std::make_tuple(t, l, s8);
    if (auto it = converted_.find(key); it != converted_.end()) return it->second;
    std::string suffix = l == Layout::kPlain     ? "@plain"
                         : l == Layout::kBlocked ? "@blocked"
                                                 : "@nhwc";
    int c = NewTensor(g_.tensors[t], suffix + (s8 ? "@s8" : ""));
    g_.tensors[c].qscale = g_.tensors[t].qscale;
    Define(c, l, true, s8);
    LOp op;
    op.kind = LKind::kCopy;
    op.in = {t};
    op.out = {c};
    if (S8(t) != s8) op.alpha = s8 ? 1.f / Q(t) : Q(t);
    p_->ops.push_back(op);
    converted_[key] = c;
    return c;
  }
  void Emit(LOp op) { p_->ops.push_back(std::move(op)); }

  bool CastAtBoundary(const Node& n, int t) const;
  Status LowerNode(int ni);
  Status LowerConv(int ni);
  Status LowerBinary(int ni);
  Status LowerConcat(int ni);
  Status LowerSliceLike(int ni);
  void LowerRef(int ni);
  bool ResizeMatchesOneDnn(const Node& n);
  // True if a live node reads `t` (as an input or a post-op addend) or it is the output.
  bool Read(int t) const {
    if (t == g_.output) return true;
    for (int k : p_->keep)
      if (k == t) return true;
    for (const Node& n : g_.nodes) {
      if (n.dead) continue;
      for (int x : n.in)
        if (x == t) return true;
      for (const PostOp& po : n.post)
        if (po.tensor == t) return true;
    }
    return false;
  }
  // A value-preserving op (pool, resize, concat, split, slice) keeps s8 data when its output
  // carries the same scale as its s8 input.
  bool KeepS8(int in, int out) const { return S8(in) && Q(out) > 0 && Q(out) == Q(in); }

  Program* p_;
  Graph& g_;
  int64_t kBlock = 16;
  std::map<std::tuple<int, Layout, bool>, int> converted_;
};

// A Cast to an integer type whose result is the graph output or read only by Casts: the int64
// (or int32, bool) outputs of third-party exports. Carried as floats holding integral values
// (the Cast truncates) and handed to the caller as float32, the boundary conversion.
bool Lowerer::CastAtBoundary(const Node& n, int t) const {
  if (n.op != "Cast") return false;
  for (int c : g_.Consumers(t))
    if (g_.nodes[c].op != "Cast") return false;
  return true;
}

// The activation layout: 16-channel blocks (AVX-512 jit kernels, zero-copy channel concat and
// split) when every convolution reads a multiple of 16 channels; otherwise channels-last
// (brgconv handles any channel count; concat copies). Measured on the t scale (8-channel
// layers): nhwc beats nChw8c's AVX2 kernels by ~1.5x. OnednnOptions::block overrides.
int ChooseBlock(const Graph& g, int forced) {
  if (forced >= 0) return forced;
  // oneDNN 2.6's int8 convolution kernels (jit_int8, brgconv) take only nhwc (blocked s8
  // layouts fall back to ref_int8), and s8 pooling is jit only on nhwc.
  for (const Node& n : g.nodes)
    if (!n.dead && n.op == "Conv" && n.wq >= 0 && g.tensors[n.in[0]].qscale > 0) return 0;
  for (const Node& n : g.nodes) {
    if (n.dead || n.op != "Conv") continue;
    int64_t cin = g.tensors[n.in[0]].shape[1];
    if (cin > 4 && cin % 16 != 0) return 0;
  }
  return 16;
}

Status Lowerer::Run() {
  p_->tp.assign(g_.tensors.size(), TensorPlan{});
  p_->block = ChooseBlock(g_, p_->forced_block);
  kBlock = p_->block;
  Define(g_.input, Layout::kPlain, /*fresh=*/false);
  for (size_t ni = 0; ni < g_.nodes.size(); ++ni) {
    const Node& n = g_.nodes[ni];
    if (n.dead) continue;
    for (int t : n.out) {
      if (t < 0) continue;
      if (g_.tensors[t].dtype != DType::kFloat && !CastAtBoundary(n, t))
        return Unimplemented(n.Where() +
                             ": produces integer data at run time (only constant "
                             "shape arithmetic is supported)");
      if (NumElements(g_.tensors[t].shape) == 0)
        return InvalidArgument(n.Where() + ": produces an empty tensor");
    }
    VQI_RETURN_IF_ERROR(LowerNode(static_cast<int>(ni)));
  }
  for (int t : p_->keep)
    if (t != g_.input && t != g_.output && Rt(t)) p_->kept[t] = Want(t, Layout::kPlain);
  // The output must be a plain root of its own: the caller's buffer.
  int o = g_.output;
  if (g_.tensors[o].is_const) {
    p_->const_output = true;
    p_->output = o;
    return Status::Ok();
  }
  o = Want(o, Layout::kPlain);
  bool is_view = false;
  for (const LOp& op : p_->ops)
    if (op.kind == LKind::kView && op.out[0] == o) is_view = true;
  if (is_view || o == g_.input) {
    int c = NewTensor(g_.tensors[o], "@out");
    Define(c, Layout::kPlain);
    LOp op;
    op.kind = LKind::kCopy;
    op.in = {o};
    op.out = {c};
    Emit(op);
    o = c;
  }
  p_->output = o;
  return Status::Ok();
}

Status Lowerer::LowerNode(int ni) {
  const Node& n = g_.nodes[ni];
  const std::string& op = n.op;
  if (op == "Conv") return LowerConv(ni);
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") return LowerBinary(ni);
  if (op == "Concat") return LowerConcat(ni);
  if (op == "Split" || op == "Slice") return LowerSliceLike(ni);
  int x = n.in[0];
  if (op == "MaxPool") {
    bool dil1 = true;
    for (int64_t d : n.Ints("dilations")) dil1 = dil1 && d == 1;
    if (!dil1) {
      LowerRef(ni);
      return Status::Ok();
    }
    bool q = KeepS8(x, n.out[0]);
    if (!q) x = Want(x, L(x));
    Define(n.out[0], L(x), true, q);
    Emit(LOp{.kind = LKind::kPool, .node = ni, .in = {x}, .out = {n.out[0]}});
    return Status::Ok();
  }
  if (op == "Resize" || op == "Upsample") {
    if (!ResizeMatchesOneDnn(n)) {
      LowerRef(ni);
      return Status::Ok();
    }
    bool q = KeepS8(x, n.out[0]);
    if (!q) x = Want(x, L(x));
    Define(n.out[0], L(x), true, q);
    Emit(LOp{.kind = LKind::kResample, .node = ni, .in = {x}, .out = {n.out[0]}});
    return Status::Ok();
  }
  LOp e{.kind = LKind::kEltwise, .node = ni, .in = {x}, .out = {n.out[0]}};
  bool elt = true;
  if (op == "Sigmoid") {
    e.alg = dnnl::algorithm::eltwise_logistic;
  } else if (op == "Relu") {
    e.alg = dnnl::algorithm::eltwise_relu;
  } else if (op == "LeakyRelu") {
    e.alg = dnnl::algorithm::eltwise_relu;
    e.alpha = n.Float("alpha", 0.01f);
  } else if (op == "HardSwish") {
    e.alg = dnnl::algorithm::eltwise_hardswish;
  } else if (op == "Exp") {
    e.alg = dnnl::algorithm::eltwise_exp;
  } else if (op == "Sqrt") {
    e.alg = dnnl::algorithm::eltwise_sqrt;
  } else if (op == "Neg") {
    e.alg = dnnl::algorithm::eltwise_linear;
    e.alpha = -1.f;
  } else if (op == "Clip") {
    e.alg = dnnl::algorithm::eltwise_clip;
    e.alpha = n.Float("min", -3.4e38f);
    e.beta = n.Float("max", 3.4e38f);
    if (n.in.size() > 1 && n.in[1] >= 0) e.alpha = g_.tensors[n.in[1]].f.at(0);
    if (n.in.size() > 2 && n.in[2] >= 0) e.beta = g_.tensors[n.in[2]].f.at(0);
  } else if (op == "Pow" && g_.tensors[n.in[1]].is_const && g_.tensors[n.in[1]].f.size() == 1 &&
             S(x) == S(n.out[0])) {
    e.alg = dnnl::algorithm::eltwise_pow;
    e.alpha = 1.f;
    e.beta = g_.tensors[n.in[1]].f[0];
  } else {
    elt = false;
  }
  if (elt) {
    x = Want(x, L(x));
    e.in = {x};
    Define(n.out[0], L(x));
    Emit(e);
    return Status::Ok();
  }
  if (op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze" ||
      op == "Identity") {
    int px = Want(x, Layout::kPlain);
    Define(n.out[0], Layout::kPlain, /*fresh=*/false);
    Emit(LOp{.kind = LKind::kView, .node = ni, .in = {px}, .out = {n.out[0]}});
    return Status::Ok();
  }
  if (op == "Transpose") {
    int px = Want(x, Layout::kPlain);
    auto perm = n.Ints("perm");
    const Shape s = S(px);
    if (perm.empty())
      for (int64_t k = static_cast<int64_t>(s.size()) - 1; k >= 0; --k) perm.push_back(k);
    auto rs = RowStrides(s);
    LOp c{.kind = LKind::kStridedCopy, .node = ni, .in = {px}, .out = {n.out[0]}};
    for (int64_t a : perm) c.src_strides.push_back(rs[a]);
    Define(n.out[0], Layout::kPlain);
    Emit(c);
    return Status::Ok();
  }
  if (op == "Softmax") {
    int64_t axis = n.Int("axis", g_.opset >= 13 ? -1 : 1);
    internal::NormAxis(&axis, static_cast<int64_t>(S(x).size()));
    // Over a non-innermost axis (the DFL head): oneDNN 2.6 has only ref:any for plain layouts
    // and a slow per-row kernel channels-last, so a vectorizable loop over the contiguous
    // inner dimension does it (softmax_strided.cc).
    int px = Want(x, Layout::kPlain);
    int64_t rank = static_cast<int64_t>(S(px).size());
    bool strided = g_.opset >= 13 && axis + 1 < rank;
    Define(n.out[0], Layout::kPlain);
    Emit(LOp{.kind = strided ? LKind::kSoftmaxStrided : LKind::kSoftmax,
             .node = ni,
             .in = {px},
             .out = {n.out[0]},
             .axis = static_cast<int>(axis)});
    return Status::Ok();
  }
  LowerRef(ni);
  return Status::Ok();
}

void Lowerer::LowerRef(int ni) {
  const Node& n = g_.nodes[ni];
  LOp r{.kind = LKind::kRef, .node = ni};
  for (int t : n.in) r.in.push_back(t < 0 ? -1 : Want(t, Layout::kPlain));
  for (int t : n.out) {
    if (t >= 0) Define(t, Layout::kPlain);
    r.out.push_back(t);
  }
  Emit(r);
}

Status Lowerer::LowerConv(int ni) {
  const Node& n = g_.nodes[ni];
  int x = n.in[0];
  if (n.wq >= 0 && Q(x) > 0) {
    // int8: s8 source in the activation layout (nhwc, ChooseBlock), s8 weights; the result
    // is s8 when the output carries a scale, else f32; residual addends are read as stored.
    x = Want(x, Layout::kBlocked, /*s8=*/true);
    int o = n.out[0];
    LOp c{.kind = LKind::kConv, .node = ni, .in = {x}, .out = {o}, .int8 = true};
    for (const PostOp& po : n.post)
      if (po.kind == PostOp::kAdd)
        c.in.push_back(Want(po.tensor, Layout::kBlocked, S8(po.tensor) && Q(po.tensor) > 0));
    Define(o, Layout::kBlocked, true, Q(o) > 0);
    Emit(c);
    return Status::Ok();
  }
  if (S8(x)) x = Want(x, L(x));
  // Blocked by default. A plain input with few channels (the image) is read as is by the
  // first-layer kernels; a plain input feeding a narrow conv stays plain; channels-last stays.
  int64_t cin = S(x)[1], cout = S(n.out[0])[1];
  Layout out = L(x) == Layout::kNhwc ? Layout::kNhwc : Layout::kBlocked;
  if (L(x) == Layout::kPlain && (cin >= 16 || kBlock == 0)) {
    if (cout < 8)
      out = Layout::kPlain;
    else
      x = Want(x, Layout::kBlocked);
  }
  LOp c{.kind = LKind::kConv, .node = ni, .in = {x}, .out = {n.out[0]}};
  for (const PostOp& po : n.post)
    if (po.kind == PostOp::kAdd) c.in.push_back(Want(po.tensor, out));
  Define(n.out[0], out);
  Emit(c);
  return Status::Ok();
}

Status Lowerer::LowerBinary(int ni) {
  const Node& n = g_.nodes[ni];
  int a = n.in[0], b = n.in[1], o = n.out[0];
  const Shape os = S(o);
  bool negate = false;
  if (S(a) != os) {
    if (n.op == "Add" || n.op == "Mul") {
      std::swap(a, b);
    } else if (n.op == "Sub" && S(b) == os) {
      std::swap(a, b);
      negate = true;
    } else {
      LowerRef(ni);
      return Status::Ok();
    }
  }
  LOp op{.kind = LKind::kBinary, .node = ni, .out = {o}, .negate = negate};
  op.alg = n.op == "Add"   ? dnnl::algorithm::binary_add
           : n.op == "Sub" ? dnnl::algorithm::binary_sub
           : n.op == "Mul" ? dnnl::algorithm::binary_mul
                           : dnnl::algorithm::binary_div;
  bool scalar_b = NumElements(S(b)) == 1 && !Rt(b);
  Layout lay;
  if (scalar_b) {
    lay = Rt(a) ? L(a) : Layout::kPlain;
  } else if (S(b) == os && Rt(a)) {
    lay = L(a);
  } else {
    lay = Layout::kPlain;
  }
  op.in = {Want(a, lay), scalar_b ? b : Want(b, lay)};
  Define(o, lay);
  Emit(op);
  return Status::Ok();
}

Status Lowerer::LowerConcat(int ni) {
  const Node& n = g_.nodes[ni];
  int o = n.out[0];
  const Shape os = S(o);
  int64_t axis = n.Int("axis", 0);
  internal::NormAxis(&axis, static_cast<int64_t>(os.size()));
  std::vector<int> ins;
  for (int t : n.in)
    if (t >= 0 && NumElements(S(t)) > 0) ins.push_back(t);
  bool blocked = os.size() == 4 && axis == 1;
  for (int t : ins) blocked = blocked && Rt(t) && L(t) == Layout::kBlocked;
  Layout lay = blocked ? Layout::kBlocked : Layout::kPlain;
  // s8 when every input carries the output's scale and one of them is already s8.
  bool q = Q(o) > 0, any_s8 = false;
  for (int t : ins) {
    q = q && Rt(t) && Q(t) == Q(o);
    any_s8 = any_s8 || S8(t);
  }
  q = q && any_s8;
  const int64_t es = q ? 1 : 4;
  LOp c{.kind = LKind::kConcat, .node = ni, .out = {o}, .axis = static_cast<int>(axis)};
  for (int t : ins) c.in.push_back(Want(t, lay, q));
  if (blocked) {
    c.inplace = os[0] == 1 && kBlock > 0;
    int64_t ch = 0;
    for (size_t k = 0; k < ins.size(); ++k) {
      if (k + 1 < ins.size() && (kBlock == 0 || S(ins[k])[1] % kBlock != 0)) c.inplace = false;
      c.slot_off.push_back(ch * os[2] * os[3] * es);
      ch += S(ins[k])[1];
    }
  } else {
    c.inplace = Prod(os, 0, axis) == 1;
    int64_t inner = Prod(os, axis + 1, os.size()), pos = 0;
    for (int t : ins) {
      c.slot_off.push_back(pos * inner * es);
      pos += S(t)[axis];
    }
  }
  c.copy_in.assign(c.in.size(), true);
  Define(o, lay, true, q);
  Emit(c);
  return Status::Ok();
}

Status Lowerer::LowerSliceLike(int ni) {
  const Node& n = g_.nodes[ni];
  int x = n.in[0];
  const Shape s = S(x);
  int64_t rank = static_cast<int64_t>(s.size());
  // Per output: start and step per axis.
  std::vector<std::vector<internal::SliceAxis>> views;
  std::vector<InValue> in;
  for (int t : n.in) {
    InValue v;
    if (t >= 0) {
      const Tensor& tt = g_.tensors[t];
      v.present = true;
      v.dtype = tt.dtype;
      v.shape = tt.shape;
      if (tt.is_const) {
        if (tt.dtype == DType::kFloat)
          v.f = tt.f.data();
        else
          v.i = tt.i.data();
      }
    }
    in.push_back(v);
  }
  if (n.op == "Slice") {
    std::vector<internal::SliceAxis> ax;
    VQI_RETURN_IF_ERROR(internal::ComputeSlice(n, g_.opset, in, &ax));
    views.push_back(ax);
  } else {
    int64_t axis;
    std::vector<int64_t> sizes;
    VQI_RETURN_IF_ERROR(internal::ComputeSplit(n, g_.opset, in, &axis, &sizes));
    int64_t start = 0;
    for (int64_t sz : sizes) {
      std::vector<internal::SliceAxis> ax(rank);
      for (int64_t d = 0; d < rank; ++d) ax[d] = {0, 1, s[d]};
      ax[axis] = {start, 1, sz};
      start += sz;
      views.push_back(ax);
    }
  }
  bool q = S8(x);
  for (size_t k = 0; k < views.size(); ++k) {
    if (n.out[k] >= 0) q = q && KeepS8(x, n.out[k]);
    for (const auto& a : views[k]) q = q && a.step > 0;
  }
  if (S8(x) && !q) x = Want(x, L(x));
  const int64_t es = q ? 1 : 4;
  for (size_t k = 0; k < views.size(); ++k) {
    int o = n.out[k];
    if (o < 0 || !Read(o)) continue;  // a part nobody reads (FoldConcatOfSplit)
    const auto& ax = views[k];
    // The single axis that is cut (all others full, step 1).
    int cut = -1, ncut = 0;
    bool unit = true;
    for (int64_t d = 0; d < rank; ++d) {
      if (ax[d].step != 1) unit = false;
      if (ax[d].count != s[d]) {
        cut = static_cast<int>(d);
        ++ncut;
      }
    }
    if (ncut == 0) cut = 0;
    bool blocked_view = Rt(x) && L(x) == Layout::kBlocked && kBlock > 0 && unit && ncut <= 1 &&
                        cut == 1 && s[0] == 1 && ax[1].start % kBlock == 0 &&
                        (ax[1].count % kBlock == 0 || ax[1].start + ax[1].count == s[1]);
    if (blocked_view) {
      Define(o, Layout::kBlocked, false, q);
      Emit(LOp{.kind = LKind::kView,
               .node = ni,
               .in = {x},
               .out = {o},
               .view_off = ax[1].start * s[2] * s[3] * es});
      continue;
    }
    // Channels of an nhwc tensor: one strided copy into a dense nhwc tensor.
    if (Rt(x) && L(x) == Layout::kBlocked && kBlock == 0 && rank == 4 && unit && ncut <= 1 &&
        cut == 1) {
      LOp c{.kind = LKind::kStridedCopy,
            .node = ni,
            .in = {x},
            .out = {o},
            .view_off = ax[1].start * es};
      c.src_strides = {s[1] * s[2] * s[3], 1, s[3] * s[1], s[1]};
      Define(o, Layout::kBlocked, true, q);
      Emit(c);
      continue;
    }
    int px = Want(x, Layout::kPlain, q);
    auto rs = RowStrides(s);
    int64_t off = 0;
    for (int64_t d = 0; d < rank; ++d) off += ax[d].start * rs[d] * es;
    bool plain_view = unit && ncut <= 1 && Prod(s, 0, cut) == 1;
    if (plain_view && Rt(x)) {
      Define(o, Layout::kPlain, false, q);
      Emit(LOp{.kind = LKind::kView, .node = ni, .in = {px}, .out = {o}, .view_off = off});
      continue;
    }
    LOp c{.kind = LKind::kStridedCopy, .node = ni, .in = {px}, .out = {o}, .view_off = off};
    for (int64_t d = 0; d < rank; ++d) c.src_strides.push_back(rs[d] * ax[d].step);
    bool negative = false;
    for (int64_t d = 0; d < rank; ++d) negative = negative || ax[d].step < 0;
    if (negative || !Rt(x)) {
      LowerRef(ni);
      return Status::Ok();
    }
    Define(o, Layout::kPlain, true, q);
    Emit(c);
  }
  return Status::Ok();
}

bool Lowerer::ResizeMatchesOneDnn(const Node& n) {
  const Shape& s = S(n.in[0]);
  const Shape& os = S(n.out[0]);
  if (s.size() != 4 || os[0] != s[0] || os[1] != s[1]) return false;
  std::vector<InValue> in;
  for (int t : n.in) {
    InValue v;
    if (t >= 0) {
      const Tensor& tt = g_.tensors[t];
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
  if (!internal::ComputeResize(n, g_.opset, in, &sc, &out).ok()) return false;
  for (int d = 2; d < 4; ++d)
    for (int64_t o = 0; o < os[d]; ++o) {
      int64_t ours = ResizeNearestIndex(n, o, s[d], os[d], sc[d]);
      int64_t dnnl = static_cast<int64_t>((o + 0.5) * double(s[d]) / double(os[d]));
      if (ours != std::min(dnnl, s[d] - 1)) return false;
    }
  return true;
}

int Resolve(Program* p, int t, int64_t* off) {
  *off = 0;
  while (p->tp[t].alias >= 0) {
    *off += p->tp[t].alias_off;
    t = p->tp[t].alias;
  }
  return t;
}

// Places the inputs of an in-place concat into its output's slots where possible.
void PlaceConcat(Program* p, LOp& c) {
  int out = c.out[0];
  int64_t total = BytesOf(*p, out);
  auto can_move = [&](int r) {
    const TensorPlan& tp = p->tp[r];
    return tp.fresh && tp.alias < 0 && r != p->output && r != p->g.input && r != out;
  };
  for (size_t k = 0; k < c.in.size(); ++k) {
    if (!c.copy_in[k]) continue;
    int64_t off;
    int r = Resolve(p, c.in[k], &off);
    if (!can_move(r)) continue;
    int64_t base = c.slot_off[k] - off, size = BytesOf(*p, r);
    if (base < 0 || base + size > total) continue;
    // Every slot overlapping [base, base + size) must be a view of r at the matching offset.
    std::vector<size_t> covered;
    bool ok = true;
    for (size_t j = 0; j < c.in.size() && ok; ++j) {
      int64_t lo = c.slot_off[j], hi = lo + BytesOf(*p, c.in[j]);
      if (hi <= base || lo >= base + size) continue;
      int64_t oj;
      int rj = Resolve(p, c.in[j], &oj);
      ok = rj == r && oj == lo - base && lo >= base && hi <= base + size && c.copy_in[j];
      covered.push_back(j);
    }
    if (!ok) continue;
    p->tp[r].alias = out;
    p->tp[r].alias_off = base;
    for (size_t j : covered) c.copy_in[j] = false;
  }
}

}  // namespace

memory::desc MdOf(const Program& p, int t) {
  Shape s = p.g.tensors[t].shape;
  if (s.empty()) s = {1};
  memory::dims dims(s.begin(), s.end());
  bool planned = t < static_cast<int>(p.tp.size());
  auto dt = planned && p.tp[t].s8 ? memory::data_type::s8 : memory::data_type::f32;
  if (planned && p.tp[t].layout != Layout::kPlain && s.size() == 4) {
    memory::format_tag tag = memory::format_tag::nhwc;
    if (p.tp[t].layout == Layout::kBlocked && p.block == 16) tag = memory::format_tag::nChw16c;
    if (p.tp[t].layout == Layout::kBlocked && p.block == 8) tag = memory::format_tag::nChw8c;
    return memory::desc(dims, dt, tag);
  }
  auto st = RowStrides(s);
  return memory::desc(dims, dt, memory::dims(st.begin(), st.end()));
}

int64_t ElemSize(const Program& p, int t) {
  return t < static_cast<int>(p.tp.size()) && p.tp[t].s8 ? 1 : 4;
}

int64_t BytesOf(const Program& p, int t) { return static_cast<int64_t>(MdOf(p, t).get_size()); }

Status Lower(Program* p) { return Lowerer(p).Run(); }

Status PlanMemory(Program* p) {
  const size_t nt = p->g.tensors.size();
  for (LOp& op : p->ops) {
    if (op.kind == LKind::kView) {
      p->tp[op.out[0]].alias = op.in[0];
      p->tp[op.out[0]].alias_off = op.view_off;
    } else if (op.kind == LKind::kConcat && op.inplace) {
      PlaceConcat(p, op);
    }
  }
  for (size_t t = 0; t < nt; ++t) {
    if (!p->tp[t].runtime) continue;
    p->tp[t].root = Resolve(p, static_cast<int>(t), &p->tp[t].root_off);
  }
  // Lifetimes of roots: first and last op touching any tensor living in them.
  std::vector<int> first(nt, INT_MAX), last(nt, -1);
  auto touch = [&](int t, int i) {
    if (t < 0 || !p->tp[t].runtime) return;
    int r = p->tp[t].root;
    first[r] = std::min(first[r], i);
    last[r] = std::max(last[r], i);
  };
  for (size_t i = 0; i < p->ops.size(); ++i) {
    for (int t : p->ops[i].in) touch(t, static_cast<int>(i));
    for (int t : p->ops[i].out) touch(t, static_cast<int>(i));
  }
  for (const auto& [t, c] : p->kept) touch(c, static_cast<int>(p->ops.size()));
  // Greedy first-fit by decreasing size among roots with overlapping lifetimes.
  std::vector<int> roots;
  for (size_t t = 0; t < nt; ++t) {
    if (!p->tp[t].runtime || p->tp[t].root != static_cast<int>(t) || last[t] < 0) continue;
    if (static_cast<int>(t) == p->g.input || static_cast<int>(t) == p->output) continue;
    roots.push_back(static_cast<int>(t));
  }
  std::sort(roots.begin(), roots.end(), [&](int a, int b) {
    return BytesOf(*p, a) != BytesOf(*p, b) ? BytesOf(*p, a) > BytesOf(*p, b) : a < b;
  });
  p->arena_off.assign(nt, -1);
  std::vector<int> placed;
  p->arena_bytes = 0;
  for (int r : roots) {
    int64_t size = (BytesOf(*p, r) + 63) / 64 * 64;
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (int q : placed)
      if (first[q] <= last[r] && first[r] <= last[q])
        busy.push_back({p->arena_off[q], p->arena_off[q] + (BytesOf(*p, q) + 63) / 64 * 64});
    std::sort(busy.begin(), busy.end());
    int64_t off = 0;
    for (auto [lo, hi] : busy) {
      if (off + size <= lo) break;
      off = std::max(off, hi);
    }
    p->arena_off[r] = off;
    p->arena_bytes = std::max(p->arena_bytes, off + size);
    placed.push_back(r);
  }
  if (p->arena_bytes > kMaxArenaBytes)
    return ResourceExhausted("the activation arena needs " + std::to_string(p->arena_bytes) +
                             " bytes, above the limit of " + std::to_string(kMaxArenaBytes));
  return Status::Ok();
}

}  // namespace vqi::infer::onednn
