// Conv (2-D, grouped, dilated, padded; fp32 or int8 weights from QDQ). Lowered to one oneDNN
// convolution (compiler.cc AddConv / AddConvInt8) with the fused post-ops of the node.
#include <oneapi/dnnl/dnnl.hpp>

#include "lowerer.h"
#include "ops/op.h"

namespace vqi::infer::onednn {
namespace {

using namespace internal;

Status Infer(const Node& n, int64_t, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  if (in.size() < 2 || !in[1].present) return NodeError(n, "missing weights");
  VQI_RETURN_IF_ERROR(NeedFloat(n, in, 0));
  const Shape& s = in[0].shape;
  const Shape& w = in[1].shape;
  if (s.size() != 4 || w.size() != 4)
    return NodeError(n, "only 2-D convolution (rank 4) supported");
  int64_t group = n.Int("group", 1);
  if (group < 1 || s[1] % group != 0 || w[0] % group != 0 || w[1] * group != s[1])
    return NodeError(n, "weights " + ShapeString(w) + " do not match input " + ShapeString(s) +
                            " with group " + std::to_string(group));
  auto ks = n.Ints("kernel_shape");
  if (!ks.empty() && (ks.size() != 2 || ks[0] != w[2] || ks[1] != w[3]))
    return NodeError(n, "kernel_shape does not match weights " + ShapeString(w));
  if (in.size() > 2 && in[2].present && in[2].shape != Shape{w[0]})
    return NodeError(
        n, "bias shape " + ShapeString(in[2].shape) + " should be [" + std::to_string(w[0]) + "]");
  Window win;
  VQI_RETURN_IF_ERROR(ComputeWindow(n, s[2], s[3], w[2], w[3], false, &win));
  out[0].shape = {s[0], w[0], win.oh, win.ow};
  return Status::Ok();
}

void Ref(const Node& n, int64_t, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  OutValue& o = out[0];
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

// oneDNN 2.6's blocked first-layer kernel (plain source, nChw16c destination) is AVX-512; on
// other CPUs nChw16c would fall back to a reference kernel.
bool HasAvx512() {
  const auto isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core || isa == dnnl::cpu_isa::avx512_core_vnni ||
         isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

// True if every reader of `t` is an int8 convolution taking it as its source (none as an
// addend), and `t` is not the graph output.
bool OnlyInt8ConvsRead(const Lowerer& l, int t) {
  const Graph& g = l.graph();
  if (t == g.output || l.Q(t) <= 0) return false;
  int readers = 0;
  for (const Node& m : g.nodes) {
    if (m.dead) continue;
    for (size_t k = 0; k < m.in.size(); ++k) {
      if (m.in[k] != t) continue;
      if (m.op != "Conv" || k != 0 || m.wq < 0) return false;
      ++readers;
    }
    for (const PostOp& po : m.post)
      if (po.kind == PostOp::kAdd && po.tensor == t) return false;
  }
  return readers > 0;
}

Status Lower(Lowerer& l, int ni) {
  const Node& n = l.graph().nodes[ni];
  int x = n.in[0];
  if (n.wq >= 0 && l.Q(x) > 0) {
    // int8: s8 source in the activation layout (nhwc, ChooseBlock), s8 weights; the result
    // is s8 when the output carries a scale, else f32; residual addends are read as stored.
    x = l.Want(x, Layout::kBlocked, /*s8=*/true);
    int o = n.out[0];
    LOp c{.kind = LKind::kConv, .node = ni, .in = {x}, .out = {o}, .int8 = true};
    for (const PostOp& po : n.post)
      if (po.kind == PostOp::kAdd)
        c.in.push_back(l.Want(po.tensor, Layout::kBlocked, l.S8(po.tensor) && l.Q(po.tensor) > 0));
    l.Define(o, Layout::kBlocked, true, l.Q(o) > 0);
    l.Emit(c);
    return Status::Ok();
  }
  // bf16 mode: a float conv runs bf16 (bf16 source, weights and result, f32 accumulation) when
  // it reads the graph input or data already bf16 or s8. One reading f32 data (in YOLO graphs:
  // the DFL conv after its Softmax; in QDQ models the head's float 1x1 convs after an int8 conv
  // with an f32 result, where a conversion would cost more than it saves) stays fp32, and so do
  // grouped convs that are not depthwise (oneDNN 2.6 has only ref:any for them in bf16).
  const int64_t group = n.Int("group", 1), ch = l.S(x)[1];
  const bool bf = l.Bf16Mode() && (group == 1 || (group == ch && l.S(n.out[0])[1] == ch)) &&
                  (x == l.graph().input || l.Bf16(x) || l.S8(x));
  const Store st = bf ? Store::kBf16 : Store::kF32;
  if (l.S8(x)) x = l.Want(x, l.L(x), st);
  // Blocked by default. A plain input with few channels (the image) is read as is by the
  // first-layer kernels; a plain input feeding a narrow conv stays plain; channels-last stays.
  int64_t cin = l.S(x)[1], cout = l.S(n.out[0])[1];
  Layout out = l.L(x) == Layout::kNhwc ? Layout::kNhwc : Layout::kBlocked;
  if (!bf && l.L(x) == Layout::kPlain && cin <= 4 && cout >= 8 && l.block() == 0 &&
      OnlyInt8ConvsRead(l, n.out[0]) && HasAvx512()) {
    // The float first convolution of an int8 model (nhwc): oneDNN 2.6 has no fast kernel from
    // a plain image to nhwc (brgconv on an nhwc copy of the image, or ref), but its blocked
    // first-layer kernel reads the image as is; the int8 consumers need a quantizing reorder
    // anyway, which now also changes the layout (one reorder and one image copy fewer).
    // fp32 only: oneDNN 2.6 has no bf16 kernel from a plain image to a blocked layout.
    out = Layout::kBlocked16;
  } else if (l.L(x) == Layout::kPlain && (cin >= 16 || l.block() == 0)) {
    if (cout < 8)
      out = Layout::kPlain;
    else
      x = l.Want(x, Layout::kBlocked, st);
  }
  x = l.Want(x, l.L(x), st);
  LOp c{.kind = LKind::kConv, .node = ni, .in = {x}, .out = {n.out[0]}};
  for (const PostOp& po : n.post)
    if (po.kind == PostOp::kAdd) c.in.push_back(l.Want(po.tensor, out, st));
  l.Define(n.out[0], out, true, st);
  l.Emit(c);
  return Status::Ok();
}

}  // namespace

void AddConvOps(OpTable* t) { (*t)["Conv"] = {Infer, Ref, Lower}; }

}  // namespace vqi::infer::onednn
