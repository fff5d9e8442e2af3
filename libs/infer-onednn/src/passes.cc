#include "passes.h"

#include <cmath>
#include <limits>

#include "onednn_limits.h"
#include "ops.h"

namespace vqi::infer::onednn {

namespace {

InValue ViewOf(const Tensor& t) {
  InValue v;
  v.present = true;
  v.dtype = t.dtype;
  v.shape = t.shape;
  v.elem_type = t.elem_type;
  if (t.is_const) {
    static const int64_t kEmpty = 0;
    if (t.dtype == DType::kFloat)
      v.f = t.f.empty() ? reinterpret_cast<const float*>(&kEmpty) : t.f.data();
    else
      v.i = t.i.empty() ? &kEmpty : t.i.data();
  }
  return v;
}

void ReplaceUses(Graph* g, int from, int to) {
  for (Node& n : g->nodes) {
    if (n.dead) continue;
    for (int& x : n.in)
      if (x == from) x = to;
    for (PostOp& p : n.post)
      if (p.tensor == from) p.tensor = to;
  }
}

bool IsRuntime(const Graph& g, int t) { return t >= 0 && !g.tensors[t].is_const; }

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

Status InferAndFold(Graph* g) {
  int64_t folded_bytes = 0;
  for (size_t k = 0; k < g->nodes.size(); ++k) {
    Node& n = g->nodes[k];
    if (n.dead) continue;
    std::vector<InValue> in;
    bool all_const = true;
    for (int t : n.in) {
      if (t < 0) {
        in.emplace_back();
        continue;
      }
      const Tensor& x = g->tensors[t];
      if (!x.shape_known) return Internal(n.Where() + ": input '" + x.name + "' has no shape");
      in.push_back(ViewOf(x));
      all_const = all_const && x.is_const;
    }
    std::vector<OutValue> out(n.out.size());
    VQI_RETURN_IF_ERROR(InferOp(n, g->opset, in, &out));
    for (size_t o = 0; o < out.size(); ++o)
      if (n.out[o] >= 0)
        VQI_RETURN_IF_ERROR(CheckTensorSize(n, g->tensors[n.out[o]], out[o].shape));
    for (size_t o = 0; o < out.size(); ++o) {
      if (n.out[o] < 0) continue;
      Tensor& t = g->tensors[n.out[o]];
      t.dtype = out[o].dtype;
      t.shape = out[o].shape;
      t.shape_known = true;
    }
    bool fold = all_const || n.op == "Shape";
    if (!fold) continue;  // (Shape reads only the input's shape, never its data)
    for (size_t o = 0; o < out.size(); ++o) {
      if (n.out[o] < 0) continue;
      Tensor& t = g->tensors[n.out[o]];
      int64_t cnt = NumElements(t.shape);
      folded_bytes += cnt * (t.dtype == DType::kFloat ? 4 : 8);
      if (folded_bytes > kMaxFoldedBytes)
        return ResourceExhausted(n.Where() + ": folding '" + t.name + "' brings the constants " +
                                 "computed at load above the limit of " +
                                 std::to_string(kMaxFoldedBytes) + " bytes");
      if (t.dtype == DType::kFloat) {
        t.f.assign(cnt, 0.f);
        out[o].f = t.f.data();
      } else {
        t.i.assign(cnt, 0);
        out[o].i = t.i.data();
      }
    }
    RefOp(n, g->opset, in, out);
    for (int t : n.out)
      if (t >= 0) g->tensors[t].is_const = true;
    if (n.op == "Constant" && n.Has("value"))
      g->tensors[n.out[0]].elem_type = n.attrs.at("value").t.elem_type;
    n.dead = true;
  }
  return Status::Ok();
}

void RemoveIdentities(Graph* g) {
  for (Node& n : g->nodes) {
    if (n.dead || n.in.empty() || n.in[0] < 0) continue;
    bool noop =
        n.op == "Identity" ||
        ((n.op == "Reshape" || n.op == "Flatten" || n.op == "Squeeze" || n.op == "Unsqueeze") &&
         g->tensors[n.in[0]].shape == g->tensors[n.out[0]].shape);
    if (!noop || n.out[0] == g->output) continue;
    n.dead = true;
    ReplaceUses(g, n.out[0], n.in[0]);
  }
}

void FoldBatchNorm(Graph* g) {
  for (Node& bn : g->nodes) {
    if (bn.dead || bn.op != "BatchNormalization") continue;
    int x = bn.in[0];
    if (!IsRuntime(*g, x) || g->tensors[x].producer < 0 || x == g->output) continue;
    Node& conv = g->nodes[g->tensors[x].producer];
    if (conv.dead || conv.op != "Conv" || !conv.post.empty() || g->Consumers(x).size() != 1)
      continue;
    bool params_const = true;
    for (int k = 1; k < 5; ++k) params_const = params_const && g->tensors[bn.in[k]].is_const;
    if (!params_const || !g->tensors[conv.in[1]].is_const) continue;
    if (conv.in.size() > 2 && conv.in[2] >= 0 && !g->tensors[conv.in[2]].is_const) continue;
    const Tensor& w = g->tensors[conv.in[1]];
    int64_t oc = w.shape[0], per = NumElements(w.shape) / oc;
    float eps = bn.Float("epsilon", 1e-5f);
    Tensor nw = w, nb;
    nw.name = w.name + "/bnfold";
    nb.name = bn.name + "/bias";
    nb.is_const = nb.shape_known = true;
    nb.shape = {oc};
    nb.f.assign(oc, 0.f);
    const auto& sc = g->tensors[bn.in[1]].f;
    const auto& be = g->tensors[bn.in[2]].f;
    const auto& mu = g->tensors[bn.in[3]].f;
    const auto& var = g->tensors[bn.in[4]].f;
    bool has_bias = conv.in.size() > 2 && conv.in[2] >= 0;
    for (int64_t c = 0; c < oc; ++c) {
      float a = sc[c] / std::sqrt(var[c] + eps);
      for (int64_t k = 0; k < per; ++k) nw.f[c * per + k] *= a;
      float b0 = has_bias ? g->tensors[conv.in[2]].f[c] : 0.f;
      nb.f[c] = (b0 - mu[c]) * a + be[c];
    }
    conv.in.resize(3);
    conv.wq = -1;  // rescaled weights are no longer the int8 ones
    conv.in[1] = g->AddTensor(std::move(nw));
    conv.in[2] = g->AddTensor(std::move(nb));
    conv.out[0] = bn.out[0];
    g->tensors[bn.out[0]].producer = g->tensors[x].producer;
    bn.dead = true;
  }
}

void FuseConvActivation(Graph* g) {
  for (size_t ci = 0; ci < g->nodes.size(); ++ci) {
    for (bool changed = true; changed;) {
      changed = false;
      Node& conv = g->nodes[ci];
      if (conv.dead || conv.op != "Conv") break;
      int x = conv.out[0];
      if (x == g->output) break;
      std::vector<int> users = g->Consumers(x);
      PostOp p;
      Node* act = nullptr;
      Node* extra = nullptr;
      if (users.size() == 1) {
        Node& u = g->nodes[users[0]];
        p.act = u.op;
        if (u.op == "Relu" || u.op == "Sigmoid" || u.op == "HardSwish") {
          act = &u;
        } else if (u.op == "LeakyRelu") {
          p.alpha = u.Float("alpha", 0.01f);
          act = &u;
        } else if (u.op == "Clip") {
          p.alpha = u.Float("min", -std::numeric_limits<float>::infinity());
          p.beta = u.Float("max", std::numeric_limits<float>::infinity());
          bool ok = true;
          for (size_t k = 1; k < u.in.size() && k < 3; ++k) {
            if (u.in[k] < 0) continue;
            const Tensor& b = g->tensors[u.in[k]];
            ok = ok && b.is_const && b.dtype == DType::kFloat && b.f.size() == 1;
            if (ok) (k == 1 ? p.alpha : p.beta) = b.f[0];
          }
          if (ok) act = &u;
        }
      } else if (users.size() == 2) {
        Node* a = &g->nodes[users[0]];
        Node* b = &g->nodes[users[1]];
        if (a->op != "Sigmoid") std::swap(a, b);
        if (a->op == "Sigmoid" && b->op == "Mul" && a->out[0] != g->output &&
            g->Consumers(a->out[0]).size() == 1 &&
            ((b->in[0] == x && b->in[1] == a->out[0]) ||
             (b->in[1] == x && b->in[0] == a->out[0]))) {
          p.act = "Swish";
          p.alpha = 1.f;
          act = b;
          extra = a;
        }
      }
      if (!act) break;
      p.kind = PostOp::kEltwise;
      conv.post.push_back(p);
      conv.out[0] = act->out[0];
      g->tensors[conv.out[0]].producer = static_cast<int>(ci);
      act->dead = true;
      if (extra) extra->dead = true;
      changed = true;
    }
  }
}

void FuseConvAdd(Graph* g) {
  for (size_t ai = 0; ai < g->nodes.size(); ++ai) {
    Node& add = g->nodes[ai];
    if (add.dead || add.op != "Add" || add.in.size() != 2 || add.in[0] == add.in[1]) continue;
    const Shape& os = g->tensors[add.out[0]].shape;
    for (int side = 0; side < 2; ++side) {
      int x = add.in[side], other = add.in[1 - side];
      if (!IsRuntime(*g, x) || !IsRuntime(*g, other) || x == g->output) continue;
      if (g->tensors[x].shape != os || g->tensors[other].shape != os) continue;
      if (g->tensors[x].dtype != DType::kFloat) continue;
      int pi = g->tensors[x].producer;
      if (pi < 0 || g->nodes[pi].dead || g->nodes[pi].op != "Conv") continue;
      if (g->Consumers(x).size() != 1) continue;
      int oi = g->tensors[other].producer;  // must be computed before the conv runs
      if (oi >= pi) continue;
      Node& conv = g->nodes[pi];
      PostOp p;
      p.kind = PostOp::kAdd;
      p.tensor = other;
      conv.post.push_back(p);
      conv.out[0] = add.out[0];
      g->tensors[add.out[0]].producer = pi;
      add.dead = true;
      break;
    }
  }
}

void FoldConcatOfSplit(Graph* g) {
  for (Node& cat : g->nodes) {
    if (cat.dead || cat.op != "Concat") continue;
    const int64_t rank = static_cast<int64_t>(g->tensors[cat.out[0]].shape.size());
    int64_t axis = cat.Int("axis", 0);
    if (axis < 0) axis += rank;
    std::vector<int> in;
    for (size_t k = 0; k < cat.in.size(); ++k) {
      int t = cat.in[k];
      int p = t >= 0 ? g->tensors[t].producer : -1;
      const Node* sp = p >= 0 ? &g->nodes[p] : nullptr;
      if (!sp || sp->dead || sp->op != "Split" || sp->out.empty() || sp->out[0] != t ||
          k + sp->out.size() > cat.in.size()) {
        in.push_back(t);
        continue;
      }
      int64_t sa = sp->Int("axis", 0);
      if (sa < 0) sa += rank;
      bool all = sa == axis;
      for (size_t j = 0; j < sp->out.size() && all; ++j) all = cat.in[k + j] == sp->out[j];
      if (!all) {
        in.push_back(t);
        continue;
      }
      in.push_back(sp->in[0]);
      k += sp->out.size() - 1;
    }
    cat.in = in;
  }
}

void RemoveDeadNodes(Graph* g) {
  for (bool changed = true; changed;) {
    changed = false;
    std::vector<int> uses(g->tensors.size(), 0);
    for (const Node& n : g->nodes) {
      if (n.dead) continue;
      for (int t : n.in)
        if (t >= 0) ++uses[t];
      for (const PostOp& p : n.post)
        if (p.tensor >= 0) ++uses[p.tensor];
    }
    for (Node& n : g->nodes) {
      if (n.dead) continue;
      bool used = false;
      for (int t : n.out) used = used || (t >= 0 && (uses[t] > 0 || t == g->output));
      if (!used) {
        n.dead = true;
        changed = true;
      }
    }
  }
}

Status OptimizeGraph(Graph* g, const OptimizeOptions& options) {
  for (const Node& n : g->nodes)
    if (!IsSupportedOp(n.op))
      return Unimplemented(n.Where() + ": unsupported operator '" + n.op + "'");
  VQI_RETURN_IF_ERROR(InferAndFold(g));
  VQI_RETURN_IF_ERROR(FoldQdq(g));
  RemoveDeadNodes(g);
  if (options.fuse) {
    RemoveIdentities(g);
    FoldBatchNorm(g);
    FuseConvActivation(g);
    FuseConvAdd(g);
    FuseConvActivation(g);
    FoldConcatOfSplit(g);
  }
  RemoveDeadNodes(g);
  return Status::Ok();
}

}  // namespace vqi::infer::onednn
