// FuseDetectDecode: the YOLOv8 detect head after its last convolutions becomes one
// VqiDetectDecode node (ops/detect_decode.cc). Matched backwards from the final Concat, every
// node checked for exactly the semantics the fused kernel computes (shapes, axes, perm,
// constants broadcast to the shapes they meet); any difference leaves the graph unchanged:
//
//   per level k: L_k = Reshape(Concat_1(box_k [1,4R,H,W], cls_k [1,nc,H,W])) -> [1, 4R+nc, .., HW]
//   head = Concat_last(L_0, L_1, ...)                          [1, 4R+nc, .., A]
//   box, cls = Slice/Split(head, axis 1) at 4R
//   d = Reshape(Conv_w(Softmax_1(Transpose_0213(Reshape(box -> [1,4,R,A])))))  [1, 4, .., A]
//   lt, rb = Slice/Split(d, axis 1) at 2
//   x1 = anchor - lt; x2 = anchor + rb
//   out = Concat_1(Concat_1((x1 + x2) * half | / 2, x2 - x1) * stride, Sigmoid(cls))
//
// Both forms of the head the project meets match: our exporter's (4-D, Slices, Mul by a "half"
// tensor) and Ultralytics' / testing::BuildYoloLikeOnnx's (3-D, Split, Div by 2). Opset >= 13
// only (earlier Softmax flattens the axes after `axis`). Intermediate tensors read outside the
// pattern, quantization scales on them, or int8 DFL weights also leave it unfused.
#include <algorithm>
#include <set>

#include "detect_decode.h"
#include "ops/common.h"
#include "passes.h"
#include "rewrites/common.h"

namespace vqi::infer::onednn {

namespace {

using rewrites::IsRuntime;
using rewrites::PartOf;

class Matcher {
 public:
  explicit Matcher(Graph* g) : g_(*g) {}

  // Tries the final concat node `ci`; on success rewrites the graph and returns true.
  bool Try(int ci);

 private:
  const Shape& S(int t) const { return g_.tensors[t].shape; }
  // The live producer of `t` if it is `op` (recorded as part of the pattern), else null.
  const Node* Op(int t, const char* op) {
    if (t < 0) return nullptr;
    int p = g_.tensors[t].producer;
    if (p < 0 || g_.nodes[p].dead || g_.nodes[p].op != op) return nullptr;
    nodes_.insert(p);
    return &g_.nodes[p];
  }
  // [1, k, 1.., a]: k rows of a values in row-major order.
  bool Rows(int t, int64_t k, int64_t a) const {
    const Shape& s = S(t);
    if (s.size() < 3 || s[0] != 1 || s[1] != k || s.back() != a) return false;
    for (size_t d = 2; d + 1 < s.size(); ++d)
      if (s[d] != 1) return false;
    return true;
  }
  bool Axis(const Node& n, int64_t want) const {
    int64_t a = n.Int("axis", 0);
    if (a < 0) a += static_cast<int64_t>(S(n.out[0]).size());
    return a == want;
  }
  // The constant `c` broadcast to `target` (row-major), if it broadcasts to exactly that.
  bool Const(int c, const Shape& target, std::vector<float>* v) const {
    if (c < 0 || !g_.tensors[c].is_const || g_.tensors[c].dtype != DType::kFloat) return false;
    Shape b;
    if (!internal::Broadcast(S(c), target, &b) || b != target) return false;
    int64_t st[internal::kMaxRank];
    internal::BroadcastStrides(S(c), target, st);
    v->assign(static_cast<size_t>(NumElements(target)), 0.f);
    OutValue o{.shape = target, .f = v->data()};
    internal::CopyView(internal::ViewOf(g_.tensors[c]), target, st, 0, o);
    return true;
  }
  // For a binary node with one constant operand: the runtime operand (same shape as the output)
  // and the constant broadcast to the output's shape; `*const_first` tells the order.
  bool Binary(const Node& n, int* x, std::vector<float>* c, bool* const_first) const {
    if (n.in.size() != 2) return false;
    for (int k = 0; k < 2; ++k) {
      int a = n.in[k], b = n.in[1 - k];
      if (IsRuntime(g_, a) && S(a) == S(n.out[0]) && Const(b, S(n.out[0]), c)) {
        *x = a;
        *const_first = k == 1;
        return true;
      }
    }
    return false;
  }

  Graph& g_;
  std::set<int> nodes_;
};

bool Matcher::Try(int ci) {
  const Node& cat5 = g_.nodes[ci];
  if (cat5.in.size() != 2 || !Axis(cat5, 1)) return false;
  const int final_t = cat5.out[0];
  if (final_t < 0 || S(final_t).size() < 3) return false;
  const int64_t a = S(final_t).back(), nc = S(final_t).size() > 1 ? S(final_t)[1] - 4 : 0;
  if (nc <= 0 || !Rows(final_t, 4 + nc, a)) return false;
  // Classes: Sigmoid(cls).
  const Node* sig = Op(cat5.in[1], "Sigmoid");
  if (!sig || !Rows(sig->in[0], nc, a) || S(sig->in[0]) != S(sig->out[0])) return false;
  const int cls = sig->in[0];
  // Boxes: Concat(c, wh) * stride.
  const Node* mul1 = Op(cat5.in[0], "Mul");
  int cat4_t;
  bool cf;
  std::vector<float> stride, half, anc, anc2;
  if (!mul1 || !Rows(mul1->out[0], 4, a) || !Binary(*mul1, &cat4_t, &stride, &cf)) return false;
  const Node* cat4 = Op(cat4_t, "Concat");
  if (!cat4 || cat4->in.size() != 2 || !Axis(*cat4, 1)) return false;
  const int c_t = cat4->in[0], wh_t = cat4->in[1];
  if (!Rows(c_t, 2, a) || S(c_t) != S(wh_t)) return false;
  // c = (x1 + x2) * half, or (x1 + x2) / 2.
  int sum_t = -1;
  if (const Node* m = Op(c_t, "Mul")) {
    if (!Binary(*m, &sum_t, &half, &cf)) return false;
  } else if (const Node* dv = Op(c_t, "Div")) {
    std::vector<float> two;
    if (!Binary(*dv, &sum_t, &two, &cf) || cf) return false;
    for (float v : two)
      if (v != 2.f) return false;
    half.assign(two.size(), 0.5f);
  } else {
    return false;
  }
  const Node* wh = Op(wh_t, "Sub");
  const Node* sum = Op(sum_t, "Add");
  if (!wh || !sum || S(sum_t) != S(c_t)) return false;
  const int x2_t = wh->in[0], x1_t = wh->in[1];
  if (x1_t == x2_t ||
      !((sum->in[0] == x1_t && sum->in[1] == x2_t) || (sum->in[0] == x2_t && sum->in[1] == x1_t)))
    return false;
  // x1 = anchor - lt, x2 = anchor + rb (same anchors).
  const Node* x1 = Op(x1_t, "Sub");
  const Node* x2 = Op(x2_t, "Add");
  int lt_t, rb_t;
  if (!x1 || !x2 || !Binary(*x1, &lt_t, &anc, &cf) || !cf || !Binary(*x2, &rb_t, &anc2, &cf) ||
      anc != anc2 || S(x1_t) != S(c_t) || S(x2_t) != S(c_t))
    return false;
  int d_t = -1, d2_t = -1;
  int64_t st = 0, cnt = 0, st2 = 0, cnt2 = 0;
  if (!PartOf(g_, lt_t, 1, &d_t, &st, &cnt) || !PartOf(g_, rb_t, 1, &d2_t, &st2, &cnt2) ||
      d_t != d2_t || st != 0 || cnt != 2 || st2 != 2 || cnt2 != 2 || !Rows(d_t, 4, a))
    return false;
  nodes_.insert(g_.tensors[lt_t].producer);
  nodes_.insert(g_.tensors[rb_t].producer);
  // d = Reshape(Conv(Softmax_1(Transpose_0213(Reshape(box)))))
  const Node* rs1 = Op(d_t, "Reshape");
  if (!rs1) return false;
  const int dc_t = rs1->in[0];
  const Node* conv = Op(dc_t, "Conv");
  if (!conv || S(dc_t) != Shape({1, 1, 4, a}) || conv->in.size() < 2 ||
      (conv->in.size() > 2 && conv->in[2] >= 0) || !conv->post.empty() || conv->wq >= 0 ||
      conv->Int("group", 1) != 1)
    return false;
  const int p_t = conv->in[0];
  const Shape& ws = S(conv->in[1]);
  const int64_t r = ws.size() == 4 ? ws[1] : 0;
  if (r <= 0 || r > kMaxDecodeBins || ws != Shape({1, r, 1, 1}) || S(p_t) != Shape({1, r, 4, a}))
    return false;
  std::vector<float> w;
  if (!Const(conv->in[1], ws, &w)) return false;
  const Node* sm = Op(p_t, "Softmax");
  if (!sm || g_.opset < 13 || !Axis(*sm, 1)) return false;
  const Node* tr = Op(sm->in[0], "Transpose");
  if (!tr || tr->Ints("perm") != std::vector<int64_t>{0, 2, 1, 3} ||
      S(tr->in[0]) != Shape({1, 4, r, a}))
    return false;
  const Node* rs0 = Op(tr->in[0], "Reshape");
  if (!rs0) return false;
  const int box = rs0->in[0];
  if (!Rows(box, 4 * r, a)) return false;
  // box, cls = the two parts of head.
  int head = -1, head2 = -1;
  if (!PartOf(g_, box, 1, &head, &st, &cnt) || !PartOf(g_, cls, 1, &head2, &st2, &cnt2) ||
      head != head2 || st != 0 || cnt != 4 * r || st2 != 4 * r || cnt2 != nc ||
      !Rows(head, 4 * r + nc, a))
    return false;
  nodes_.insert(g_.tensors[box].producer);
  nodes_.insert(g_.tensors[cls].producer);
  // head = Concat over the anchor axis of Reshape(Concat_1(box_k, cls_k)).
  const Node* cat3 = Op(head, "Concat");
  if (!cat3 || !Axis(*cat3, static_cast<int64_t>(S(head).size()) - 1)) return false;
  std::vector<int> inputs;
  int64_t total = 0;
  for (int lk : cat3->in) {
    const Node* rk = lk >= 0 ? Op(lk, "Reshape") : nullptr;
    if (!rk) return false;
    const Node* ck = Op(rk->in[0], "Concat");
    if (!ck || ck->in.size() != 2 || !Axis(*ck, 1)) return false;
    const int bk = ck->in[0], kk = ck->in[1];
    const Shape& bs = S(bk);
    const Shape& ks = S(kk);
    if (!IsRuntime(g_, bk) || !IsRuntime(g_, kk) || bs.size() != 4 || ks.size() != 4 ||
        bs != Shape({1, 4 * r, ks[2], ks[3]}) || ks[0] != 1 || ks[1] != nc ||
        !Rows(lk, 4 * r + nc, bs[2] * bs[3]))
      return false;
    inputs.push_back(bk);
    inputs.push_back(kk);
    total += bs[2] * bs[3];
  }
  if (total != a) return false;
  // Nothing computed inside the pattern is read outside it or quantized.
  nodes_.insert(ci);
  for (int ni : nodes_) {
    for (int t : g_.nodes[ni].out) {
      if (t < 0) continue;
      if (g_.tensors[t].qscale > 0) return false;
      if (t == final_t) continue;
      if (t == g_.output) return false;
      for (int u : g_.Consumers(t))
        if (!nodes_.count(u)) return false;
    }
  }
  // The fused node takes the final concat's place (topological order kept); a Reshape of its
  // result that is the graph output is written directly (the kernel writes plain rows).
  int out = final_t;
  std::vector<int> users = g_.Consumers(final_t);
  if (final_t != g_.output && users.size() == 1 && g_.nodes[users[0]].op == "Reshape" &&
      g_.nodes[users[0]].out[0] == g_.output && g_.nodes[users[0]].in[0] == final_t) {
    g_.nodes[users[0]].dead = true;
    out = g_.output;
  }
  auto constant = [&](const std::string& name, Shape s, std::vector<float> v) {
    Tensor t;
    t.name = cat5.name + "/" + name;
    t.shape = std::move(s);
    t.shape_known = true;
    t.is_const = true;
    t.f = std::move(v);
    return g_.AddTensor(std::move(t));
  };
  inputs.push_back(constant("dfl_w", {r}, w));
  inputs.push_back(constant("anchor", {2, a}, anc));
  inputs.push_back(constant("half", {2, a}, half));
  inputs.push_back(constant("stride", {4, a}, stride));
  Node fused;
  fused.name = cat5.name;
  fused.op = "VqiDetectDecode";
  fused.in = inputs;
  fused.out = {out};
  fused.attrs["levels"].i = static_cast<int64_t>(cat3->in.size());
  fused.attrs["reg_max"].i = r;
  fused.attrs["shape"].kind = Attr::kInts;
  fused.attrs["shape"].ints = S(out);
  for (int ni : nodes_) g_.nodes[ni].dead = true;
  g_.nodes[ci] = std::move(fused);
  g_.tensors[out].producer = ci;
  return true;
}

}  // namespace

void FuseDetectDecode(Graph* g) {
  for (size_t ci = 0; ci < g->nodes.size(); ++ci) {
    if (g->nodes[ci].dead || g->nodes[ci].op != "Concat") continue;
    Matcher m(g);
    if (m.Try(static_cast<int>(ci))) return;  // one detect head per model
  }
}

}  // namespace vqi::infer::onednn
