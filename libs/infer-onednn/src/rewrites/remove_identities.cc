// RemoveIdentities: Identity and no-op Reshape/Flatten/Squeeze/Unsqueeze consumers read the
// source directly.
#include "passes.h"
#include "rewrites/common.h"

namespace vqi::infer::onednn {

using rewrites::IsRuntime;
using rewrites::ReplaceUses;

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

}  // namespace vqi::infer::onednn
