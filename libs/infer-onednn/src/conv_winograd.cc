// fp32 3x3 stride-1 convolutions as Winograd (issue 22; docs/design/onednn.md "Winograd").
//
// oneDNN 2.6 offers two AVX-512 Winograd kernels for inference: jit_wino_4x3 (F(4x4, 3x3): a
// 6x6 input tile, 36 multiplications per 16 outputs where direct needs 144) and
// jit_fp32_wino_2x3 (F(2x2, 3x3)). Both accept only ReLU and sum post-ops, and every YOLOv8
// convolution carries SiLU (and, in the backbone's bottlenecks, a residual add), so a
// convolution that qualifies runs without post-ops and each of its post-ops follows as an
// in-place step on its output: an eltwise primitive for an activation, a binary add for the
// residual, in the node's order. Measured on n640 (the design note): the pair takes 0.43-0.74x
// the fused direct convolution's time (rule in WinogradPd); n640 fp32 0.88 -> 0.66-0.68 of
// ONNX Runtime. Winograd rounds differently from direct (the
// transforms add and scale inputs before the products): relative error ~1e-6 of the output
// range, inside the fp32 tolerance of the tests (fusion_test WinogradMatchesReference).
#include <cstring>
#include <string>

#include "compiled_program.h"

namespace vqi::infer::onednn {

using dnnl::memory;
using ConvPd = dnnl::convolution_forward::primitive_desc;

namespace {

// The rule (measured on every stride-1 3x3 shape of n640 at 2 threads, conv_algo_bench; see
// the design note): Winograd plus a separate SiLU (and add) took 0.43-0.74x the fused direct
// convolution's time from 16 channels and 20x20 output pixels on; F(4x4, 3x3) was the faster
// kernel everywhere except on 64->64 at 20x20 (4x3 1.06x, 2x3 0.84x): narrow convolutions
// (both sides <= kNarrowChannels) on fewer than kSmallPixels take F(2x2, 3x3) when offered.
// Smaller shapes were not measured and stay direct.
constexpr int64_t kMinChannels = 16;
constexpr int64_t kMinPixels = 20 * 20;
constexpr int64_t kNarrowChannels = 64;
constexpr int64_t kSmallPixels = 40 * 40;

bool IsNChw16cF32(const memory::desc& md) {
  return md == memory::desc(md.dims(), memory::data_type::f32, memory::format_tag::nChw16c);
}

}  // namespace

bool Model::WinogradPd(const LOp& op, const dnnl::convolution_forward::desc& d, ConvPd* pd) {
  if (!opt_.winograd || op.int8) return false;
  const Node& n = *NodeOf(op);
  const Shape& w = p_.g.tensors[n.in[1]].shape;
  const dnnl_convolution_desc_t& cd = d.data;
  if (n.Int("group", 1) != 1 || w.size() != 4 || w[2] != 3 || w[3] != 3) return false;
  if (cd.strides[0] != 1 || cd.strides[1] != 1 || cd.dilates[0] != 0 || cd.dilates[1] != 0)
    return false;
  const memory::desc src = MdOf(p_, op.in[0]), dst = MdOf(p_, op.out[0]);
  if (!IsNChw16cF32(src) || !IsNChw16cF32(dst)) return false;  // the kernels' only layout
  const Shape& os = p_.g.tensors[op.out[0]].shape;
  if (w[0] < kMinChannels || w[1] < kMinChannels || os[2] * os[3] < kMinPixels) return false;
  for (const PostOp& pp : n.post)
    if (pp.kind != PostOp::kEltwise && pp.kind != PostOp::kAdd) return false;
  try {
    dnnl::convolution_forward::desc wd = d;
    wd.data.alg_kind = dnnl_convolution_winograd;
    ConvPd c(wd, Attr(), eng_);
    // The preferred kernel when offered, else oneDNN's first choice (a copy keeps it while `c`
    // moves on through the list).
    const bool small =
        w[0] <= kNarrowChannels && w[1] <= kNarrowChannels && os[2] * os[3] < kSmallPixels;
    const char* want = small ? "wino_2x3" : "wino_4x3";
    ConvPd first = c;
    do {
      if (std::string(c.impl_info_str()).find(want) != std::string::npos) {
        *pd = c;
        return true;
      }
    } while (c.next_impl());
    *pd = first;
    return true;
  } catch (const dnnl::error&) {
    return false;  // not offered for this shape, padding or ISA: direct with fused post-ops
  }
}

Status Model::AddConvWinograd(const LOp& op, const ConvPd& pd) {
  const Node& n = *NodeOf(op);
  const int x = op.in[0], o = op.out[0];
  const Tensor& w = p_.g.tensors[n.in[1]];
  memory wplain(memory::desc({w.shape[0], w.shape[1], w.shape[2], w.shape[3]},
                             memory::data_type::f32, memory::format_tag::oihw),
                eng_);
  std::memcpy(wplain.get_data_handle(), w.f.data(), w.f.size() * sizeof(float));
  Step& conv = PushConvStep(op, "conv", pd, wplain, x, o, {});
  if (n.in.size() > 2 && n.in[2] >= 0) conv.args[DNNL_ARG_BIAS] = Mem(n.in[2]);
  // The post-ops in order, in place on the output (which may be a slot of a concat buffer:
  // with batch 1 a 16-aligned channel slice of nChw16c is contiguous, so its desc is dense).
  const memory::desc od = MdOf(p_, o);
  size_t add_k = 1;
  for (const PostOp& pp : n.post) {
    Step st;
    st.label = Label(op, "conv_post");
    try {
      if (pp.kind == PostOp::kEltwise) {
        float alpha = pp.alpha, beta = pp.beta;
        const dnnl::algorithm alg = ActAlg(pp.act, &alpha, &beta);
        dnnl::eltwise_forward::primitive_desc epd(
            {dnnl::prop_kind::forward_inference, alg, od, alpha, beta}, Attr(), eng_);
        st.impl = epd.impl_info_str();
        st.prim = dnnl::eltwise_forward(epd);
        st.scratch = epd.scratchpad_desc();
        st.args = {{DNNL_ARG_SRC, Mem(o)}, {DNNL_ARG_DST, Mem(o)}};
      } else {
        const int t = op.in[add_k++];
        dnnl::binary::primitive_desc bpd({dnnl::algorithm::binary_add, od, MdOf(p_, t), od}, Attr(),
                                         eng_);
        st.impl = bpd.impl_info_str();
        st.prim = dnnl::binary(bpd);
        st.scratch = bpd.scratchpad_desc();
        st.args = {{DNNL_ARG_SRC_0, Mem(o)}, {DNNL_ARG_SRC_1, Mem(t)}, {DNNL_ARG_DST, Mem(o)}};
      }
    } catch (const dnnl::error& e) {
      return Unimplemented(n.Where() + ": oneDNN cannot create the post-op step of this " +
                           "Winograd convolution: " + e.what());
    }
    steps_.push_back(std::move(st));
  }
  return Status::Ok();
}

}  // namespace vqi::infer::onednn
