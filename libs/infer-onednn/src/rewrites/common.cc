#include "rewrites/common.h"

namespace vqi::infer::onednn::rewrites {

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
