// Elementwise activations and unary math: Sigmoid, Relu, LeakyRelu, HardSwish, HardSigmoid,
// Clip, Exp, Neg, Sqrt, Floor, Ceil. Lowered to a oneDNN eltwise in the input's layout where
// oneDNN has the function (HardSigmoid, Floor, Ceil run the reference kernel); Neg and Clip
// also fold int64 constants.
#include <algorithm>
#include <cmath>
#include <limits>

#include "lowerer.h"
#include "ops/op.h"

namespace vqi::infer::onednn {
namespace {

using namespace internal;

Status Infer(const Node& n, int64_t, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  const std::string& op = n.op;
  if (op != "Neg" && op != "Clip") VQI_RETURN_IF_ERROR(NeedFloat(n, in, 0));
  if (op == "Clip")
    for (size_t k = 1; k < in.size(); ++k)
      if (in[k].present &&
          (!in[k].has_data() || in[k].dtype != in[0].dtype || NumElements(in[k].shape) != 1))
        return NodeError(n, "min/max must be constant scalars of the input's type");
  out[0].shape = in[0].shape;
  return Status::Ok();
}

float Act(const std::string& op, float x, float alpha, float beta) {
  if (op == "Sigmoid") return 1.f / (1.f + std::exp(-x));
  if (op == "Relu") return x > 0 ? x : 0;
  if (op == "LeakyRelu") return x > 0 ? x : alpha * x;
  if (op == "HardSigmoid") return std::max(0.f, std::min(1.f, alpha * x + beta));
  if (op == "HardSwish") return x * std::max(0.f, std::min(1.f, x / 6.f + 0.5f));
  if (op == "Clip") return std::min(std::max(x, alpha), beta);
  if (op == "Exp") return std::exp(x);
  if (op == "Neg") return -x;
  if (op == "Sqrt") return std::sqrt(x);
  if (op == "Floor") return std::floor(x);
  if (op == "Ceil") return std::ceil(x);
  return x;
}

void Ref(const Node& n, int64_t, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  const std::string& op = n.op;
  const InValue& x = in[0];
  OutValue& o = out[0];
  const int64_t total = NumElements(o.shape);
  if (op == "Neg" && o.i) {
    for (int64_t k = 0; k < total; ++k) o.i[k] = -x.i[k];
    return;
  }
  if (op == "Clip" && o.i) {
    int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
    if (in.size() > 1 && in[1].present) lo = in[1].i[0];
    if (in.size() > 2 && in[2].present) hi = in[2].i[0];
    for (int64_t k = 0; k < total; ++k) o.i[k] = std::clamp(x.i[k], lo, hi);
    return;
  }
  float alpha = n.Float("alpha", op == "LeakyRelu" ? 0.01f : 0.2f);
  float beta = n.Float("beta", 0.5f);
  if (op == "Clip") {
    alpha = n.Float("min", -std::numeric_limits<float>::infinity());
    beta = n.Float("max", std::numeric_limits<float>::infinity());
    if (in.size() > 1 && in[1].present) alpha = in[1].f[0];
    if (in.size() > 2 && in[2].present) beta = in[2].f[0];
  }
  for (int64_t k = 0; k < total; ++k) o.f[k] = Act(op, x.f[k], alpha, beta);
}

Status Lower(Lowerer& l, int ni) {
  const Node& n = l.graph().nodes[ni];
  const std::string& op = n.op;
  const auto& tensors = l.graph().tensors;
  int x = n.in[0];
  LOp e{.kind = LKind::kEltwise, .node = ni, .in = {x}, .out = {n.out[0]}};
  if (op == "Sigmoid") {
    e.alg = dnnl::algorithm::eltwise_logistic;
  } else if (op == "Relu") {
    e.alg = dnnl::algorithm::eltwise_relu;
  } else if (op == "LeakyRelu") {
    e.alg = dnnl::algorithm::eltwise_relu;
    e.alpha = n.Float("alpha", 0.01f);
  } else if (op == "HardSwish") {
    e.alg = dnnl::algorithm::eltwise_hardswish;
  } else if (op == "Exp") {
    e.alg = dnnl::algorithm::eltwise_exp;
  } else if (op == "Sqrt") {
    e.alg = dnnl::algorithm::eltwise_sqrt;
  } else if (op == "Neg") {
    e.alg = dnnl::algorithm::eltwise_linear;
    e.alpha = -1.f;
  } else if (op == "Clip") {
    e.alg = dnnl::algorithm::eltwise_clip;
    e.alpha = n.Float("min", -3.4e38f);
    e.beta = n.Float("max", 3.4e38f);
    if (n.in.size() > 1 && n.in[1] >= 0) e.alpha = tensors[n.in[1]].f.at(0);
    if (n.in.size() > 2 && n.in[2] >= 0) e.beta = tensors[n.in[2]].f.at(0);
  } else {  // HardSigmoid, Floor, Ceil
    l.LowerRef(ni);
    return Status::Ok();
  }
  x = l.Want(x, l.L(x));
  e.in = {x};
  l.Define(n.out[0], l.L(x));
  l.Emit(e);
  return Status::Ok();
}

}  // namespace

void AddEltwiseOps(OpTable* t) {
  for (const char* op : {"Sigmoid", "Relu", "LeakyRelu", "HardSwish", "HardSigmoid", "Clip", "Exp",
                         "Neg", "Sqrt", "Floor", "Ceil"})
    (*t)[op] = {Infer, Ref, Lower};
}

}  // namespace vqi::infer::onednn
