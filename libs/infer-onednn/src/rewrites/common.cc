#include "rewrites/common.h"

#include "ops/common.h"

namespace vqi::infer::onednn::rewrites {

const Node* ProducerOf(const Graph& g, int t) {
  if (t < 0) return nullptr;
  int p = g.tensors[t].producer;
  return p >= 0 && !g.nodes[p].dead ? &g.nodes[p] : nullptr;
}

bool PartOf(const Graph& g, int t, int64_t axis, int* src, int64_t* start, int64_t* count) {
  const Node* p = ProducerOf(g, t);
  if (!p || p->in.empty() || p->in[0] < 0) return false;
  const Shape& s = g.tensors[p->in[0]].shape;
  const int64_t rank = static_cast<int64_t>(s.size());
  if (axis < 0 || axis >= rank || g.tensors[t].shape.size() != s.size()) return false;
  if (p->op == "Split") {
    int64_t a = p->Int("axis", 0);
    if (a < 0) a += rank;
    if (a != axis) return false;
    int64_t pos = 0;
    for (int o : p->out) {
      if (o == t) {
        *src = p->in[0];
        *start = pos;
        *count = g.tensors[t].shape[axis];
        return true;
      }
      if (o < 0) return false;
      pos += g.tensors[o].shape[axis];
    }
    return false;
  }
  if (p->op != "Slice" || p->out[0] != t) return false;
  std::vector<InValue> in;
  for (int x : p->in) in.push_back(x >= 0 ? internal::ViewOf(g.tensors[x]) : InValue{});
  std::vector<internal::SliceAxis> ax;
  if (!internal::ComputeSlice(*p, g.opset, in, &ax).ok()) return false;
  for (int64_t d = 0; d < rank; ++d) {
    if (ax[d].step != 1) return false;
    if (d != axis && (ax[d].start != 0 || ax[d].count != s[d])) return false;
  }
  *src = p->in[0];
  *start = ax[axis].start;
  *count = ax[axis].count;
  return true;
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

}  // namespace vqi::infer::onednn::rewrites
