// Primitive creation (once, at load) and execution.
#include "compiler.h"

#include <omp.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>

#include "lowering.h"
#include "ops.h"
#include "ops/common.h"
#include "softmax_strided.h"

namespace vqi::infer::onednn {

using dnnl::memory;

namespace {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<uint8_t, FreeDeleter>;

Buffer AlignedBuffer(int64_t bytes) {
  size_t n = static_cast<size_t>((std::max<int64_t>(bytes, 64) + 63) / 64 * 64);
  Buffer b(static_cast<uint8_t*>(std::aligned_alloc(64, n)));
  if (b) std::memset(b.get(), 0, n);
  return b;
}

// dst[p] = src0[p] | src1[p] | ... for `pixels` pixels, `chunk[k]` bytes of input k per pixel.
// Fixed-size copies for the usual chunk sizes compile to plain vector moves.
void ConcatChannelsLast(const uint8_t* const* src, const int64_t* chunk, size_t n, int64_t pixels,
                        uint8_t* dst) {
  int64_t total = 0;
  for (size_t k = 0; k < n; ++k) total += chunk[k];
  auto pixel = [&](int64_t p) {
    uint8_t* d = dst + p * total;
    for (size_t k = 0; k < n; ++k) {
      const uint8_t* s = src[k] + p * chunk[k];
      switch (chunk[k]) {
        case 8:
          std::memcpy(d, s, 8);
          break;
        case 16:
          std::memcpy(d, s, 16);
          break;
        case 32:
          std::memcpy(d, s, 32);
          break;
        case 64:
          std::memcpy(d, s, 64);
          break;
        case 128:
          std::memcpy(d, s, 128);
          break;
        default:
          std::memcpy(d, s, static_cast<size_t>(chunk[k]));
      }
      d += chunk[k];
    }
  };
  // Even a serialized OpenMP region allocates its team in libgomp: small concats stay out.
  if (pixels * total >= (int64_t{1} << 18) && omp_get_max_threads() > 1) {
#pragma omp parallel for schedule(static)
    for (int64_t p = 0; p < pixels; ++p) pixel(p);
  } else {
    for (int64_t p = 0; p < pixels; ++p) pixel(p);
  }
}

struct Step {
  std::string label;  // "kind node-name"
  std::string impl;   // oneDNN implementation name
  int threads = 1;    // OpenMP threads the primitive was created for (and runs with)
  dnnl::primitive prim{};
  std::unordered_map<int, memory> args{};
  std::vector<dnnl_exec_arg_t> c_args{};  // args flattened once for the C API (no allocation)
  memory::desc scratch{};
  // Reference fallback, or (with `strided_softmax`) the strided softmax loop.
  const LOp* ref = nullptr;
  bool strided_softmax = false;
  int64_t outer = 0, len = 0, inner = 0;
  // Channel concat of channels-last tensors (own loop): `outer` pixels, `chunk` bytes of each
  // input per pixel; `src` is refilled every run (sized once: no allocation).
  bool nhwc_concat = false;
  std::vector<int64_t> chunk{};
  std::vector<const uint8_t*> src{};
  std::vector<InValue> ref_in{};
  std::vector<OutValue> ref_out{};
};

// A memory bound to the caller's input (which = 0) or output (which = 1) buffer.
struct External {
  memory mem;
  int which;
  int64_t off;
};

class Model final : public CompiledModel {
 public:
  Model(Program p, const CompileOptions& o)
      : p_(std::move(p)), opt_(o), eng_(dnnl::engine::kind::cpu, 0), stream_(eng_) {}

  Status Build();
  Status BuildSteps();

  const Shape& InputShape() const override { return p_.g.tensors[p_.g.input].shape; }
  const Shape& OutputShape() const override { return p_.g.tensors[p_.g.output].shape; }
  size_t ArenaBytes() const override { return static_cast<size_t>(p_.arena_bytes); }
  const float* Kept(int tensor) const override {
    auto it = p_.kept.find(tensor);
    if (it == p_.kept.end()) return nullptr;
    int r = p_.tp[it->second].root;
    if (r < 0 || (r != p_.g.input && r != p_.output && p_.arena_off[r] < 0)) return nullptr;
    return reinterpret_cast<const float*>(
        const_cast<Model*>(this)->Ptr(it->second, 0, last_in_, last_out_));
  }
  Status Run(const float* input, float* output) override;
  Status RunSteps(const float* input, float* output);
  std::string Details() const override;

 private:
  const Node* NodeOf(const LOp& op) const { return op.node >= 0 ? &p_.g.nodes[op.node] : nullptr; }
  std::string Label(const LOp& op, const char* kind) const {
    return std::string(kind) + " " + (op.node >= 0 ? p_.g.nodes[op.node].name : "(copy)");
  }
  // A memory for tensor t (view of its root), optionally with another desc and byte offset.
  memory Mem(int t, const memory::desc& md, int64_t extra_off = 0);
  memory Mem(int t) { return Mem(t, MdOf(p_, t)); }
  uint8_t* Ptr(int t, int64_t extra = 0, const float* in = nullptr, float* out = nullptr);
  dnnl::primitive_attr Attr() const {
    dnnl::primitive_attr a;
    a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    return a;
  }
  Status Add(const LOp& op);
  int StepThreads(const LOp& op) const;
  Status AddConv(const LOp& op);
  Status AddReorder(const LOp& op, memory src, memory dst, float scale = 0);
  Status AddConvInt8(const LOp& op);
  // Reorders the plain weights once into the layout `pd` chose and appends the convolution
  // step (src, weights, dst and binary post-op arguments); the caller adds the bias.
  Step& PushConvStep(const LOp& op, const char* kind,
                     const dnnl::convolution_forward::primitive_desc& pd, memory wplain, int x,
                     int o, const std::vector<std::pair<int, int>>& binary_args);
  // Channel concat (axis 1) of 4-D tensors that are all dense channels-last of one data type.
  bool IsChannelsLastConcat(const LOp& op) const {
    auto nhwc = [&](int t) {
      const TensorPlan& tp = p_.tp[t];
      return p_.g.tensors[t].shape.size() == 4 &&
             (tp.layout == Layout::kNhwc || (tp.layout == Layout::kBlocked && p_.block == 0));
    };
    if (op.axis != 1 || !nhwc(op.out[0])) return false;
    for (int t : op.in)
      if (!nhwc(t) || ElemSize(p_, t) != ElemSize(p_, op.out[0])) return false;
    return true;
  }

  Program p_;
  CompileOptions opt_;
  dnnl::engine eng_;
  dnnl::stream stream_;
  Buffer arena_, scratch_;
  std::vector<Step> steps_;
  std::vector<External> ext_;
  std::map<int, memory> const_mem_;
  std::vector<memory> keep_;        // weights and constants
  const float* last_in_ = nullptr;  // buffers of the last Run (for Kept)
  float* last_out_ = nullptr;
};

uint8_t* Model::Ptr(int t, int64_t extra, const float* in, float* out) {
  const TensorPlan& tp = p_.tp[t];
  int r = tp.root;
  uint8_t* base;
  if (r == p_.g.input) {
    base = reinterpret_cast<uint8_t*>(const_cast<float*>(in));
  } else if (r == p_.output) {
    base = reinterpret_cast<uint8_t*>(out);
  } else {
    base = arena_.get() + p_.arena_off[r];
  }
  return base ? base + tp.root_off + extra : nullptr;
}

memory Model::Mem(int t, const memory::desc& md, int64_t extra_off) {
  const Tensor& tt = p_.g.tensors[t];
  if (tt.is_const) {
    auto it = const_mem_.find(t);
    if (it != const_mem_.end()) return it->second;
    memory m(MdOf(p_, t), eng_);
    std::memcpy(m.get_data_handle(), tt.f.data(), tt.f.size() * sizeof(float));
    const_mem_[t] = m;
    return m;
  }
  int r = p_.tp[t].root;
  if (r == p_.g.input || r == p_.output) {
    memory m(md, eng_, DNNL_MEMORY_NONE);
    ext_.push_back({m, r == p_.g.input ? 0 : 1, p_.tp[t].root_off + extra_off});
    return m;
  }
  return memory(md, eng_, Ptr(t, extra_off));
}

Status Model::AddReorder(const LOp& op, memory src, memory dst, float scale) {
  auto attr = Attr();
  if (scale != 0) attr.set_output_scales(0, {scale});  // dst = scale * src, s8: round, saturate
  dnnl::reorder::primitive_desc pd(eng_, src.get_desc(), eng_, dst.get_desc(), attr);
  Step s;
  s.label = Label(op, scale == 0 ? "reorder" : "quant_reorder");
  s.impl = pd.impl_info_str();
  s.prim = dnnl::reorder(pd);
  s.args = {{DNNL_ARG_FROM, src}, {DNNL_ARG_TO, dst}};
  s.scratch = pd.scratchpad_desc();
  steps_.push_back(std::move(s));
  return Status::Ok();
}

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
  auto any_w = memory::desc(wdims, memory::data_type::f32, memory::format_tag::any);
  dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference,
                                    dnnl::algorithm::convolution_direct, MdOf(p_, x), any_w, bmd,
                                    MdOf(p_, o), {win.sh, win.sw}, {win.dh - 1, win.dw - 1},
                                    {win.pt, win.pl}, {win.pb, win.pr});
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

Status Model::Add(const LOp& op) {
  const Node* n = NodeOf(op);
  auto fail = [&](const dnnl::error& e) {
    return Unimplemented((n ? n->Where() : std::string("copy")) +
                         ": oneDNN cannot create a primitive: " + e.what());
  };
  try {
    switch (op.kind) {
      case LKind::kView:
        return Status::Ok();
      case LKind::kConv:
        return AddConv(op);
      case LKind::kCopy:
        return AddReorder(op, Mem(op.in[0]), Mem(op.out[0]), op.alpha);
      case LKind::kStridedCopy: {
        const Shape& os = p_.g.tensors[op.out[0]].shape;
        memory::desc src(memory::dims(os.begin(), os.end()), MdOf(p_, op.out[0]).data_type(),
                         memory::dims(op.src_strides.begin(), op.src_strides.end()));
        return AddReorder(op, Mem(op.in[0], src, op.view_off), Mem(op.out[0]));
      }
      case LKind::kConcat: {
        if (op.inplace) {
          for (size_t k = 0; k < op.in.size(); ++k) {
            if (!op.copy_in[k]) continue;
            memory::desc md = MdOf(p_, op.in[k]);
            memory dst = Mem(op.out[0], md, op.slot_off[k]);
            VQI_RETURN_IF_ERROR(AddReorder(op, Mem(op.in[k]), dst));
          }
          return Status::Ok();
        }
        if (IsChannelsLastConcat(op)) {
          // oneDNN 2.6's `simple:any` concat copies channels-last pieces element-run by
          // element-run (133 us for three 8-channel s8 inputs at 56x80, the t model's C2f);
          // a per-pixel loop with fixed-size copies does it in a fraction.
          const Shape& os = p_.g.tensors[op.out[0]].shape;
          Step st{.label = Label(op, "concat"), .impl = "vqi:nhwc"};
          st.ref = &op;
          st.nhwc_concat = true;
          st.outer = os[0] * os[2] * os[3];
          for (int t : op.in) st.chunk.push_back(p_.g.tensors[t].shape[1] * ElemSize(p_, t));
          st.src.resize(op.in.size());
          steps_.push_back(std::move(st));
          return Status::Ok();
        }
        std::vector<memory::desc> mds;
        for (int t : op.in) mds.push_back(MdOf(p_, t));
        dnnl::concat::primitive_desc pd(MdOf(p_, op.out[0]), op.axis, mds, eng_, Attr());
        Step s;
        s.label = Label(op, "concat");
        s.impl = pd.impl_info_str();
        s.prim = dnnl::concat(pd);
        for (size_t k = 0; k < op.in.size(); ++k)
          s.args[DNNL_ARG_MULTIPLE_SRC + static_cast<int>(k)] = Mem(op.in[k]);
        s.args[DNNL_ARG_DST] = Mem(op.out[0]);
        s.scratch = pd.scratchpad_desc();
        steps_.push_back(std::move(s));
        return Status::Ok();
      }
      case LKind::kPool: {
        const Shape& s = p_.g.tensors[op.in[0]].shape;
        const Shape& os = p_.g.tensors[op.out[0]].shape;
        auto ks = n->Ints("kernel_shape");
        internal::Window win;
        VQI_RETURN_IF_ERROR(
            internal::ComputeWindow(*n, s[2], s[3], ks[0], ks[1], n->Int("ceil_mode", 0), &win));
        // ceil_mode: extend the right padding so oneDNN produces the same output size.
        int64_t pb = (os[2] - 1) * win.sh + ks[0] - s[2] - win.pt;
        int64_t pr = (os[3] - 1) * win.sw + ks[1] - s[3] - win.pl;
        dnnl::pooling_forward::desc d(
            dnnl::prop_kind::forward_inference, dnnl::algorithm::pooling_max, MdOf(p_, op.in[0]),
            MdOf(p_, op.out[0]), {win.sh, win.sw}, {ks[0], ks[1]}, {win.pt, win.pl}, {pb, pr});
        dnnl::pooling_forward::primitive_desc pd(d, Attr(), eng_);
        Step st{.label = Label(op, "pool"),
                .impl = pd.impl_info_str(),
                .prim = dnnl::pooling_forward(pd)};
        st.args = {{DNNL_ARG_SRC, Mem(op.in[0])}, {DNNL_ARG_DST, Mem(op.out[0])}};
        st.scratch = pd.scratchpad_desc();
        steps_.push_back(std::move(st));
        return Status::Ok();
      }
      case LKind::kResample: {
        dnnl::resampling_forward::desc d(dnnl::prop_kind::forward_inference,
                                         dnnl::algorithm::resampling_nearest, MdOf(p_, op.in[0]),
                                         MdOf(p_, op.out[0]));
        dnnl::resampling_forward::primitive_desc pd(d, Attr(), eng_);
        Step st{.label = Label(op, "resample"),
                .impl = pd.impl_info_str(),
                .prim = dnnl::resampling_forward(pd)};
        st.args = {{DNNL_ARG_SRC, Mem(op.in[0])}, {DNNL_ARG_DST, Mem(op.out[0])}};
        st.scratch = pd.scratchpad_desc();
        steps_.push_back(std::move(st));
        return Status::Ok();
      }
      case LKind::kEltwise: {
        dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, op.alg,
                                      MdOf(p_, op.in[0]), op.alpha, op.beta);
        dnnl::eltwise_forward::primitive_desc pd(d, Attr(), eng_);
        Step st{.label = Label(op, "eltwise"),
                .impl = pd.impl_info_str(),
                .prim = dnnl::eltwise_forward(pd)};
        st.args = {{DNNL_ARG_SRC, Mem(op.in[0])}, {DNNL_ARG_DST, Mem(op.out[0])}};
        st.scratch = pd.scratchpad_desc();
        steps_.push_back(std::move(st));
        return Status::Ok();
      }
      case LKind::kBinary: {
        int a = op.in[0], b = op.in[1], o = op.out[0];
        size_t rank = p_.g.tensors[o].shape.size();
        auto padded = [&](int t) {
          Shape s = p_.g.tensors[t].shape;
          s.insert(s.begin(), rank - s.size(), 1);
          if (s.empty()) s = {1};
          if (p_.tp[t].layout == Layout::kBlocked && s == p_.g.tensors[o].shape) return MdOf(p_, t);
          std::vector<int64_t> st(s.size(), 1);
          for (size_t k = s.size(); k-- > 1;) st[k - 1] = st[k] * s[k];
          return memory::desc(memory::dims(s.begin(), s.end()), memory::data_type::f32,
                              memory::dims(st.begin(), st.end()));
        };
        memory::desc amd = MdOf(p_, a);  // src0 has the output's shape and layout
        memory::desc bmd = padded(b);
        dnnl::binary::desc d(op.alg, amd, bmd, MdOf(p_, o));
        auto attr = Attr();
        if (op.negate) {
          dnnl::post_ops po;
          po.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, -1.f, 0.f);
          attr.set_post_ops(po);
        }
        dnnl::binary::primitive_desc pd(d, attr, eng_);
        Step st{.label = Label(op, "binary"), .impl = pd.impl_info_str(), .prim = dnnl::binary(pd)};
        memory am = Mem(a);
        memory bm =
            p_.g.tensors[b].is_const ? memory(bmd, eng_, Mem(b).get_data_handle()) : Mem(b, bmd);
        st.args = {{DNNL_ARG_SRC_0, am}, {DNNL_ARG_SRC_1, bm}, {DNNL_ARG_DST, Mem(o)}};
        st.scratch = pd.scratchpad_desc();
        steps_.push_back(std::move(st));
        return Status::Ok();
      }
      case LKind::kSoftmax: {
        memory::desc md = MdOf(p_, op.in[0]);
        int axis = op.axis;
        if (p_.g.opset < 13) {  // coerced to 2-D [outer, rest]
          const Shape& s = p_.g.tensors[op.in[0]].shape;
          int64_t outer = 1;
          for (int k = 0; k < axis; ++k) outer *= s[k];
          md = memory::desc({outer, NumElements(s) / outer}, memory::data_type::f32,
                            memory::format_tag::ab);
          axis = 1;
        }
        dnnl::softmax_forward::desc d(dnnl::prop_kind::forward_inference, md, axis);
        dnnl::softmax_forward::primitive_desc pd(d, Attr(), eng_);
        Step st{.label = Label(op, "softmax"),
                .impl = pd.impl_info_str(),
                .prim = dnnl::softmax_forward(pd)};
        st.args = {{DNNL_ARG_SRC, Mem(op.in[0], md)}, {DNNL_ARG_DST, Mem(op.out[0], md)}};
        st.scratch = pd.scratchpad_desc();
        steps_.push_back(std::move(st));
        return Status::Ok();
      }
      case LKind::kSoftmaxStrided: {
        const Shape& s = p_.g.tensors[op.in[0]].shape;
        Step st{.label = Label(op, "softmax"), .impl = "vqi:strided"};
        st.ref = &op;
        st.strided_softmax = true;
        st.outer = st.len = st.inner = 1;
        for (int k = 0; k < static_cast<int>(s.size()); ++k)
          (k < op.axis ? st.outer : k == op.axis ? st.len : st.inner) *= s[k];
        steps_.push_back(std::move(st));
        return Status::Ok();
      }
      case LKind::kRef: {
        Step st{.label = Label(op, "reference"), .impl = "reference"};
        st.ref = &op;
        for (int t : op.in) {
          InValue v;
          if (t >= 0) {
            const Tensor& tt = p_.g.tensors[t];
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
          st.ref_in.push_back(v);
        }
        for (int t : op.out) {
          OutValue v;
          if (t >= 0) v.shape = p_.g.tensors[t].shape;
          st.ref_out.push_back(v);
        }
        steps_.push_back(std::move(st));
        return Status::Ok();
      }
    }
  } catch (const dnnl::error& e) {
    return fail(e);
  }
  return Status::Ok();
}

// Small steps run on one thread: a primitive created for one thread executes inline, without
// an OpenMP fork/join, which costs more than the work below these sizes (measured on the t
// scale at 320x224: 2 threads everywhere 3.6 ms, small steps serial 2.x ms; see the design
// note). CompileOptions::serial_conv_macs / serial_bytes set the thresholds.
int Model::StepThreads(const LOp& op) const {
  if (opt_.threads <= 1) return 1;
  const int64_t kMacs = opt_.serial_conv_macs, kBytes = opt_.serial_bytes;
  if (op.out.empty() || op.out[0] < 0) return opt_.threads;
  const Shape& os = p_.g.tensors[op.out[0]].shape;
  if (op.kind == LKind::kConv) {
    const Node& n = p_.g.nodes[op.node];
    const Shape& w = p_.g.tensors[n.in[1]].shape;
    int64_t macs = NumElements(os) * w[1] * w[2] * w[3];
    if (op.int8) macs /= 2;  // VNNI: int8 MACs cost about half (or less) of fp32 ones
    return macs < kMacs ? 1 : opt_.threads;
  }
  return BytesOf(p_, op.out[0]) < kBytes ? 1 : opt_.threads;
}

// Threads: omp_set_num_threads sets the nthreads-var ICV of the calling thread only (OpenMP
// 5.1, 3.2.1; libgomp keeps it in the thread's task ICVs), so each instance sets its own count
// for its primitives and gives the caller's value back before returning: instances with
// different counts coexist in one process (compiler_test ThreadsArePerInstance).
Status Model::Build() {
  const int caller = omp_get_max_threads();
  Status st = BuildSteps();
  omp_set_num_threads(caller);
  return st;
}

Status Model::BuildSteps() {
  omp_set_num_threads(opt_.threads);
  arena_ = AlignedBuffer(p_.arena_bytes);
  if (!arena_) return Unavailable("cannot allocate the tensor arena");
  for (const LOp& op : p_.ops) {
    size_t first = steps_.size();
    int threads = StepThreads(op);
    omp_set_num_threads(threads);
    Status st = Add(op);
    omp_set_num_threads(opt_.threads);
    VQI_RETURN_IF_ERROR(st);
    for (size_t k = first; k < steps_.size(); ++k) steps_[k].threads = threads;
  }
  size_t scratch = 0;
  for (const Step& s : steps_) scratch = std::max(scratch, s.scratch.get_size());
  scratch_ = AlignedBuffer(static_cast<int64_t>(scratch));
  for (Step& s : steps_) {
    if (s.scratch.get_size() > 0)
      s.args[DNNL_ARG_SCRATCHPAD] = memory(s.scratch, eng_, scratch_.get());
    for (const auto& [k, m] : s.args) s.c_args.push_back({k, m.get()});
  }
  return Status::Ok();
}

Status Model::Run(const float* input, float* output) {
  const int caller = omp_get_max_threads();
  Status st = RunSteps(input, output);
  omp_set_num_threads(caller);
  return st;
}

Status Model::RunSteps(const float* input, float* output) {
  omp_set_num_threads(opt_.threads);
  last_in_ = input;
  last_out_ = output;
  if (p_.const_output) {
    const auto& f = p_.g.tensors[p_.output].f;
    std::memcpy(output, f.data(), f.size() * sizeof(float));
    return Status::Ok();
  }
  for (External& e : ext_) {
    uint8_t* base = e.which == 0 ? reinterpret_cast<uint8_t*>(const_cast<float*>(input))
                                 : reinterpret_cast<uint8_t*>(output);
    e.mem.set_data_handle(base + e.off);
  }
  int threads = opt_.threads;
  try {
    for (Step& s : steps_) {
      if (s.threads != threads) omp_set_num_threads(threads = s.threads);
      if (s.nhwc_concat) {
        for (size_t k = 0; k < s.src.size(); ++k) s.src[k] = Ptr(s.ref->in[k], 0, input, output);
        ConcatChannelsLast(s.src.data(), s.chunk.data(), s.src.size(), s.outer,
                           Ptr(s.ref->out[0], 0, input, output));
        continue;
      }
      if (s.strided_softmax) {
        SoftmaxStrided(reinterpret_cast<const float*>(Ptr(s.ref->in[0], 0, input, output)),
                       reinterpret_cast<float*>(Ptr(s.ref->out[0], 0, input, output)), s.outer,
                       s.len, s.inner);
        continue;
      }
      if (s.ref) {
        for (size_t k = 0; k < s.ref->in.size(); ++k) {
          int t = s.ref->in[k];
          if (t >= 0 && !p_.g.tensors[t].is_const)
            s.ref_in[k].f = reinterpret_cast<const float*>(Ptr(t, 0, input, output));
        }
        for (size_t k = 0; k < s.ref->out.size(); ++k)
          if (s.ref->out[k] >= 0)
            s.ref_out[k].f = reinterpret_cast<float*>(Ptr(s.ref->out[k], 0, input, output));
        RefOp(p_.g.nodes[s.ref->node], p_.g.opset, s.ref_in, s.ref_out);
        continue;
      }
      dnnl_status_t r = dnnl_primitive_execute(s.prim.get(), stream_.get(),
                                               static_cast<int>(s.c_args.size()), s.c_args.data());
      if (r != dnnl_success) {
        return Internal("oneDNN execution failed at " + s.label + " (status " +
                        std::to_string(static_cast<int>(r)) + ")");
      }
    }
    stream_.wait();
  } catch (const dnnl::error& e) {
    return Internal(std::string("oneDNN execution failed: ") + e.what());
  }
  return Status::Ok();
}

std::string Model::Details() const {
  std::map<std::string, int> impls;
  for (const Step& s : steps_) {
    std::string kind = s.label.substr(0, s.label.find(' '));
    ++impls[kind + "=" + s.impl];
  }
  std::ostringstream os;
  os << "threads=" << opt_.threads << " isa=";
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx512_core_amx:
      os << "avx512_core_amx";
      break;
    case dnnl::cpu_isa::avx512_core_bf16:
      os << "avx512_core_bf16";
      break;
    case dnnl::cpu_isa::avx512_core_vnni:
      os << "avx512_core_vnni";
      break;
    case dnnl::cpu_isa::avx512_core:
      os << "avx512_core";
      break;
    case dnnl::cpu_isa::avx2_vnni:
      os << "avx2_vnni";
      break;
    case dnnl::cpu_isa::avx2:
      os << "avx2";
      break;
    default:
      os << "other";
      break;
  }
  os << " layout=" << (p_.block == 16 ? "nChw16c" : p_.block == 8 ? "nChw8c" : "nhwc");
  int serial = 0;
  for (const Step& s : steps_) serial += s.threads == 1;
  os << " steps=" << steps_.size() << " serial_steps=" << serial
     << " arena_bytes=" << p_.arena_bytes << " impls:";
  for (const auto& [k, v] : impls) os << " " << k << "x" << v;
  return os.str();
}

}  // namespace

Result<std::unique_ptr<CompiledModel>> Compile(Graph g, const CompileOptions& options) {
  Program p;
  p.g = std::move(g);
  p.keep = options.keep;
  p.forced_block = options.block;
  try {
    VQI_RETURN_IF_ERROR(Lower(&p));
    VQI_RETURN_IF_ERROR(PlanMemory(&p));
    auto m = std::make_unique<Model>(std::move(p), options);
    VQI_RETURN_IF_ERROR(m->Build());
    return std::unique_ptr<CompiledModel>(std::move(m));
  } catch (const dnnl::error& e) {  // engine/stream/memory creation outside a node's step
    return Internal(std::string("oneDNN error while compiling: ") + e.what());
  }
}

}  // namespace vqi::infer::onednn
