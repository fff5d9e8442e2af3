// Convolution steps: fp32 (any post-ops) and int8 (s8 source and weights, per-channel output
// scales); weights are reordered once, at load, into the layout the implementation chose.
#include <cstring>

#include "compiled_program.h"
#include "ops/common.h"

namespace vqi::infer::onednn {

using dnnl::memory;

dnnl::algorithm ActAlg(const std::string& act, float* alpha, float* beta) {
  if (act == "Relu" || act == "LeakyRelu") return dnnl::algorithm::eltwise_relu;
  if (act == "Sigmoid") return dnnl::algorithm::eltwise_logistic;
  if (act == "HardSwish") return dnnl::algorithm::eltwise_hardswish;
  if (act == "Swish") return dnnl::algorithm::eltwise_swish;
  *alpha = std::max(*alpha, -3.4e38f);
  *beta = std::min(*beta, 3.4e38f);
  return dnnl::algorithm::eltwise_clip;
}

Status Model::AddConv(const LOp& op) {
  if (op.int8) return AddConvInt8(op);
  const Node& n = *NodeOf(op);
  int x = op.in[0], o = op.out[0];
  const Tensor& w = p_.g.tensors[n.in[1]];
  const Shape& s = p_.g.tensors[x].shape;
  int64_t group = n.Int("group", 1);
  internal::Window win;
  VQI_RETURN_IF_ERROR(internal::ComputeWindow(n, s[2], s[3], w.shape[2], w.shape[3], false, &win));
  memory::dims wdims, plain_w;
  memory::format_tag wtag;
  if (group == 1) {
    wdims = {w.shape[0], w.shape[1], w.shape[2], w.shape[3]};
    wtag = memory::format_tag::oihw;
  } else {
    wdims = {group, w.shape[0] / group, w.shape[1], w.shape[2], w.shape[3]};
    wtag = memory::format_tag::goihw;
  }
  bool has_bias = n.in.size() > 2 && n.in[2] >= 0;
  memory::desc bmd = has_bias
                         ? memory::desc({w.shape[0]}, memory::data_type::f32, memory::format_tag::x)
                         : memory::desc();
  // bf16 source: bf16 weights too (converted by the one-time weight reorder), f32 bias,
  // f32 accumulation inside oneDNN.
  const auto wdt = MdOf(p_, x).data_type() == memory::data_type::bf16 ? memory::data_type::bf16
                                                                      : memory::data_type::f32;
  auto any_w = memory::desc(wdims, wdt, memory::format_tag::any);
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference,
                                    dnnl::algorithm::convolution_direct, MdOf(p_, x), any_w, bmd,
                                    MdOf(p_, o), {win.sh, win.sw}, {win.dh - 1, win.dw - 1},
                                    {win.pt, win.pl}, {win.pb, win.pr});
  // Winograd without post-ops, then the post-ops as in-place steps (conv_winograd.cc).
  dnnl::convolution_forward::primitive_desc wpd;
  if (WinogradPd(op, d, &wpd)) return AddConvWinograd(op, wpd);
  dnnl::post_ops po;
  size_t add_k = 1;
  std::vector<std::pair<int, int>> binary_args;  // (post-op index, tensor)
  for (size_t k = 0; k < n.post.size(); ++k) {
    const PostOp& pp = n.post[k];
    if (pp.kind == PostOp::kEltwise) {
      float alpha = pp.alpha, beta = pp.beta;
      auto alg = ActAlg(pp.act, &alpha, &beta);
      po.append_eltwise(1.f, alg, alpha, beta);
    } else {
      int t = op.in[add_k++];
      po.append_binary(dnnl::algorithm::binary_add, MdOf(p_, t));
      binary_args.push_back({static_cast<int>(k), t});
    }
  }
  auto attr = Attr();
  attr.set_post_ops(po);
  dnnl::convolution_forward::primitive_desc pd;
  try {
    pd = dnnl::convolution_forward::primitive_desc(d, attr, eng_);
  } catch (const dnnl::error& e) {
    return Unimplemented(n.Where() + ": oneDNN cannot create this convolution: " + e.what());
  }
  pd = TuneConv(op, pd, d, attr, BinaryDescs(binary_args, po.len()));
  memory wplain(memory::desc(wdims, memory::data_type::f32, wtag), eng_);
  std::memcpy(wplain.get_data_handle(), w.f.data(), w.f.size() * sizeof(float));
  Step& st = PushConvStep(op, "conv", pd, wplain, x, o, binary_args);
  if (has_bias) st.args[DNNL_ARG_BIAS] = Mem(n.in[2]);
  return Status::Ok();
}

Step& Model::PushConvStep(const LOp& op, const char* kind,
                          const dnnl::convolution_forward::primitive_desc& pd, memory wplain, int x,
                          int o, const std::vector<std::pair<int, int>>& binary_args) {
  // Weights reordered once into the layout the implementation wants.
  memory wmem(pd.weights_desc(), eng_);
  dnnl::reorder(wplain, wmem).execute(stream_, wplain, wmem);
  stream_.wait();
  keep_.push_back(wmem);
  Step st;
  st.label = Label(op, kind);
  st.impl = pd.impl_info_str();
  st.prim = dnnl::convolution_forward(pd);
  st.args = {{DNNL_ARG_SRC, Mem(x)}, {DNNL_ARG_WEIGHTS, wmem}, {DNNL_ARG_DST, Mem(o)}};
  for (auto [k, t] : binary_args)
    st.args[DNNL_ARG_ATTR_MULTIPLE_POST_OP(k) | DNNL_ARG_SRC_1] = Mem(t);
  st.scratch = pd.scratchpad_desc();
  steps_.push_back(std::move(st));
  return steps_.back();
}

// int8 convolution. oneDNN 2.6 computes dst = oscale[c] * (acc_s32 + bias[c]) before the
// post-ops (measured: qdq_test BiasSemantics), so the f32 bias is divided by
// oscale[c] = s_in * s_w[c]. Post-ops then work on real values; an s8 residual addend (raw
// integers of scale s_x) is added in units of s_x by scaling around it with eltwise_linear.
// An s8 result ends with eltwise_linear(1/s_out) (folded into oscale without post-ops); oneDNN
// rounds to nearest even and saturates.
Status Model::AddConvInt8(const LOp& op) {
  const Node& n = *NodeOf(op);
  int x = op.in[0], o = op.out[0];
  const Tensor& w = p_.g.tensors[n.in[1]];
  const Tensor& wq = p_.g.tensors[n.wq];
  const Shape& s = p_.g.tensors[x].shape;
  int64_t group = n.Int("group", 1), oc = w.shape[0];
  internal::Window win;
  VQI_RETURN_IF_ERROR(internal::ComputeWindow(n, s[2], s[3], w.shape[2], w.shape[3], false, &win));
  memory::dims wdims;
  memory::format_tag wtag;
  if (group == 1) {
    wdims = {w.shape[0], w.shape[1], w.shape[2], w.shape[3]};
    wtag = memory::format_tag::oihw;
  } else {
    wdims = {group, w.shape[0] / group, w.shape[1], w.shape[2], w.shape[3]};
    wtag = memory::format_tag::goihw;
  }
  const float s_in = p_.tp[x].scale;
  std::vector<float> oscale(oc);
  for (int64_t c = 0; c < oc; ++c) oscale[c] = s_in * n.wscale[c];
  bool has_bias = n.in.size() > 2 && n.in[2] >= 0;
  memory::desc bmd =
      has_bias ? memory::desc({oc}, memory::data_type::f32, memory::format_tag::x) : memory::desc();
  auto any_w = memory::desc(wdims, memory::data_type::s8, memory::format_tag::any);
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference,
                                    dnnl::algorithm::convolution_direct, MdOf(p_, x), any_w, bmd,
                                    MdOf(p_, o), {win.sh, win.sw}, {win.dh - 1, win.dw - 1},
                                    {win.pt, win.pl}, {win.pb, win.pr});
  dnnl::post_ops po;
  float unit = 1.f;  // the current value times `unit` is the real value
  auto to_unit = [&](float u) {
    if (unit != u) po.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, unit / u, 0.f);
    unit = u;
  };
  size_t add_k = 1;
  std::vector<std::pair<int, int>> binary_args;  // (post-op index, tensor)
  for (const PostOp& pp : n.post) {
    if (pp.kind == PostOp::kEltwise) {
      to_unit(1.f);
      float alpha = pp.alpha, beta = pp.beta;
      auto alg = ActAlg(pp.act, &alpha, &beta);
      po.append_eltwise(1.f, alg, alpha, beta);
    } else {
      int t = op.in[add_k++];
      to_unit(p_.tp[t].s8 ? p_.tp[t].scale : 1.f);
      binary_args.push_back({po.len(), t});
      po.append_binary(dnnl::algorithm::binary_add, MdOf(p_, t));
    }
  }
  const bool s8_out = p_.tp[o].s8;
  if (s8_out && po.len() == 0) {
    for (float& v : oscale) v /= p_.tp[o].scale;
  } else {
    to_unit(s8_out ? p_.tp[o].scale : 1.f);
  }
  auto attr = Attr();
  attr.set_output_scales(1 << 1, oscale);
  attr.set_post_ops(po);
  dnnl::convolution_forward::primitive_desc pd;
  try {
    pd = dnnl::convolution_forward::primitive_desc(d, attr, eng_);
  } catch (const dnnl::error& e) {
    return Unimplemented(n.Where() + ": oneDNN cannot create this int8 convolution: " + e.what());
  }
  pd = TuneConv(op, pd, d, attr, BinaryDescs(binary_args, po.len()));
  memory wplain(memory::desc(wdims, memory::data_type::s8, wtag), eng_);
  auto* wp = static_cast<int8_t*>(wplain.get_data_handle());
  for (size_t k = 0; k < wq.i.size(); ++k) wp[k] = static_cast<int8_t>(wq.i[k]);
  Step& st = PushConvStep(op, "conv_s8", pd, wplain, x, o, binary_args);
  if (has_bias) {
    memory b(bmd, eng_);
    const std::vector<float>& bf = p_.g.tensors[n.in[2]].f;
    auto* bp = static_cast<float*>(b.get_data_handle());
    for (int64_t c = 0; c < oc; ++c) bp[c] = bf[c] / (s_in * n.wscale[c]);
    keep_.push_back(b);
    st.args[DNNL_ARG_BIAS] = b;
  }
  return Status::Ok();
}

}  // namespace vqi::infer::onednn
