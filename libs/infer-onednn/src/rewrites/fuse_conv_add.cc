// FuseConvAdd: Conv -> Add(other) becomes a binary-add post-op of the Conv (residual
// connections), when the other addend is computed before the conv runs.
#include "passes.h"
#include "rewrites/common.h"

namespace vqi::infer::onednn {

using rewrites::IsRuntime;
using rewrites::ReplaceUses;

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

}  // namespace vqi::infer::onednn
