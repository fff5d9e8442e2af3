// FoldQdq (after InferAndFold): activation QuantizeLinear->DequantizeLinear pairs removed (the
// tensor keeps its scale, Tensor::qscale); Conv weights from DequantizeLinear(int8) keep their
// integers and per-channel scales (Node::wq, wscale). Anything but symmetric int8 with constant
// scales is an error naming the node (docs/design/onednn.md, "int8").
#include <cmath>

#include "passes.h"
#include "rewrites/common.h"

namespace vqi::infer::onednn {

using rewrites::IsRuntime;
using rewrites::ReplaceUses;

namespace {

constexpr int kOnnxUint8 = 2, kOnnxInt8 = 3;

Status QdqError(const Node& n, const std::string& msg) {
  return InvalidArgument(n.Where() + ": " + msg);
}

// Checks scale and zero point of a QuantizeLinear/DequantizeLinear: constant positive finite
// scales, an int8 zero point of zeros (symmetric). `scale` receives the scale values.
Status CheckQdqParams(const Graph& g, const Node& n, bool activation, std::vector<float>* scale) {
  if (n.in.size() < 2 || n.in[1] < 0) return QdqError(n, "missing scale input");
  const Tensor& s = g.tensors[n.in[1]];
  if (!s.is_const || s.dtype != DType::kFloat)
    return QdqError(n, "scale '" + s.name + "' is not a constant float tensor");
  for (float v : s.f)
    if (!(v > 0) || !std::isfinite(v))
      return QdqError(n, "scale '" + s.name + "' has a value " + std::to_string(v) +
                             " (must be positive and finite)");
  if (activation && s.f.size() != 1)
    return QdqError(n, "activation scale '" + s.name + "' must be a scalar (per tensor)");
  const std::string requant = "; re-quantize with vqi model quantize";
  bool has_zp = n.in.size() > 2 && n.in[2] >= 0;
  if (!has_zp && n.op == "QuantizeLinear")
    return QdqError(n, "quantization to uint8 (no zero point) is not supported" + requant);
  if (has_zp) {
    const Tensor& z = g.tensors[n.in[2]];
    if (!z.is_const) return QdqError(n, "zero point '" + z.name + "' is not a constant");
    if (z.elem_type == kOnnxUint8)
      return QdqError(n, "asymmetric uint8 quantization is not supported" + requant);
    if (z.elem_type != kOnnxInt8)
      return QdqError(n, "zero point '" + z.name + "' must be int8 (symmetric int8 only)");
    for (int64_t v : z.i)
      if (v != 0)
        return QdqError(n, "zero point '" + z.name + "' is " + std::to_string(v) +
                               " (only symmetric int8 with zero point 0 is supported)" + requant);
  }
  *scale = s.f;
  return Status::Ok();
}

}  // namespace

Status FoldQdq(Graph* g) {
  // Validate every DequantizeLinear, folded (weights) or not (activations).
  for (const Node& n : g->nodes) {
    if (n.op != "DequantizeLinear") continue;
    const Tensor& x = g->tensors[n.in[0]];
    int xp = x.producer;
    bool from_q = xp >= 0 && g->nodes[xp].op == "QuantizeLinear";
    std::vector<float> sc;
    VQI_RETURN_IF_ERROR(CheckQdqParams(*g, n, /*activation=*/from_q && !x.is_const, &sc));
    if (x.is_const && !from_q && x.elem_type != kOnnxInt8)
      return QdqError(
          n, "input '" + x.name + "' is not int8 (ONNX type " + std::to_string(x.elem_type) + ")");
    if (!x.is_const && !from_q)
      return QdqError(n, "input '" + x.name + "' is not int8 (not produced by QuantizeLinear)");
  }
  // Activations: X -> QuantizeLinear -> DequantizeLinear -> consumers becomes X (scale noted).
  for (Node& q : g->nodes) {
    if (q.dead || q.op != "QuantizeLinear") continue;
    std::vector<float> sc;
    VQI_RETURN_IF_ERROR(CheckQdqParams(*g, q, /*activation=*/true, &sc));
    int y = q.out[0], x = q.in[0];
    std::vector<int> users = g->Consumers(y);
    if (users.empty() || y == g->output)
      return QdqError(q, "output '" + g->tensors[y].name + "' has no matching DequantizeLinear");
    for (int u : users) {
      const Node& dq = g->nodes[u];
      bool match = dq.op == "DequantizeLinear" && dq.in[0] == y && dq.in.size() > 1 &&
                   dq.in[1] >= 0 && g->tensors[dq.in[1]].is_const &&
                   g->tensors[dq.in[1]].f == std::vector<float>{sc[0]};
      if (!match)
        return QdqError(q, "output '" + g->tensors[y].name + "' is read by " + dq.Where() +
                               ", not by a DequantizeLinear with the same scale");
    }
    for (int u : users) {
      Node& dq = g->nodes[u];
      if (dq.out[0] == g->output) g->output = x;
      ReplaceUses(g, dq.out[0], x);
      dq.dead = true;
    }
    q.dead = true;
    if (g->tensors[x].qscale == 0) g->tensors[x].qscale = sc[0];
  }
  // Conv weights: DequantizeLinear(int8 initializer) folded to floats; keep the integers.
  for (Node& c : g->nodes) {
    if (c.dead || c.op != "Conv" || c.in.size() < 2 || c.in[1] < 0) continue;
    const Tensor& w = g->tensors[c.in[1]];
    if (!w.is_const || w.producer < 0) continue;
    const Node& dq = g->nodes[w.producer];
    if (dq.op != "DequantizeLinear" || !g->tensors[dq.in[0]].is_const ||
        g->tensors[dq.in[0]].dtype != DType::kInt64)
      continue;
    const std::vector<float>& sc = g->tensors[dq.in[1]].f;
    int64_t oc = w.shape[0];
    int64_t axis = dq.Int("axis", 1);
    if (axis < 0) axis += static_cast<int64_t>(w.shape.size());
    if (sc.size() != 1 && axis != 0)
      return QdqError(dq, "weight scales must be per output channel (axis 0) for " + c.Where());
    c.wq = dq.in[0];
    c.wscale = sc.size() == 1 ? std::vector<float>(oc, sc[0]) : sc;
  }
  return Status::Ok();
}

}  // namespace vqi::infer::onednn
