// FoldBatchNorm: Conv -> BatchNormalization (constant parameters, the conv's only reader)
// becomes one Conv with rescaled weights and bias.
#include <cmath>

#include "passes.h"
#include "rewrites/common.h"

namespace vqi::infer::onednn {

using rewrites::IsRuntime;
using rewrites::ReplaceUses;

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

}  // namespace vqi::infer::onednn
