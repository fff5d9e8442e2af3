// RemoveDeadNodes: nodes whose outputs nobody reads (iterated to a fixed point).
#include "passes.h"
#include "rewrites/common.h"

namespace vqi::infer::onednn {

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

}  // namespace vqi::infer::onednn
