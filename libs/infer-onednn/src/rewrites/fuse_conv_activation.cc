// FuseConvActivation: Conv -> Relu/LeakyRelu/Sigmoid/HardSwish/Clip, and the SiLU pattern
// Mul(x, Sigmoid(x)), become eltwise post-ops of the Conv (repeatedly, so chains fuse).
#include <limits>

#include "passes.h"
#include "rewrites/common.h"

namespace vqi::infer::onednn {

using rewrites::IsRuntime;
using rewrites::ReplaceUses;

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

}  // namespace vqi::infer::onednn
