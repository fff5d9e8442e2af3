// FoldConcatOfSplit: Concat(..., Split(x) outputs in order, ...) reads x instead (C2f: the
// halves of cv1 are concatenated again; one copy instead of two).
#include "passes.h"
#include "rewrites/common.h"

namespace vqi::infer::onednn {

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

}  // namespace vqi::infer::onednn
