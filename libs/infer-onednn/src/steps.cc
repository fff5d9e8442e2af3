// One step per lowered op kind (Model::Add): reorders, views, concats, pooling, resampling,
// eltwise, binary, softmax, and the reference-kernel fallback.
#include "compiled_program.h"
#include "ops/common.h"

namespace vqi::infer::onednn {

using dnnl::memory;

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
      case LKind::kDetectDecode: {
        Step st{.label = Label(op, "decode"), .impl = "vqi:detect_decode"};
        st.ref = &op;
        st.decode = true;
        const size_t levels = op.in.size() / 2;
        const size_t m = 2 * levels;
        // In a layout's terms: element (c, p) at (c / cb) * hw * cb + p * ps + c % cb.
        auto input = [&](int t) {
          const Shape& s = p_.g.tensors[t].shape;
          DecodeInput d{.hw = s[2] * s[3]};
          const TensorPlan& tp = p_.tp[t];
          int64_t b = tp.layout == Layout::kNhwc        ? 0
                      : tp.layout == Layout::kBlocked   ? p_.block
                      : tp.layout == Layout::kBlocked16 ? (s[1] <= 8 ? 8 : 16)
                                                        : 1;
          d.cb = d.ps = b == 0 ? s[1] : b;
          return d;
        };
        int64_t anchors = 0;
        for (size_t k = 0; k < levels; ++k) {
          st.dbox.push_back(input(op.in[2 * k]));
          st.dcls.push_back(input(op.in[2 * k + 1]));
          anchors += st.dbox.back().hw;
        }
        st.dparams.reg_max = n->Int("reg_max", 16);
        st.dparams.nc = p_.g.tensors[op.in[1]].shape[1];
        st.dparams.anchors = anchors;
        const float** c[4] = {&st.dparams.dfl_w, &st.dparams.anchor, &st.dparams.half,
                              &st.dparams.stride};
        for (size_t k = 0; k < 4; ++k) *c[k] = p_.g.tensors[n->in[m + k]].f.data();
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
}  // namespace vqi::infer::onednn
