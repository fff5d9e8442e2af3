// The reference interpreter: the whole graph through the naive kernels of the operator
// table (ops/op.h), plain row-major, every tensor materialized. The oracle of the tests.
#include "ops.h"

namespace vqi::infer::onednn {

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
