// Add, Sub, Mul, Div, Pow with numpy broadcasting (float, or int64 when folded). Add/Sub/Mul/
// Div lower to a oneDNN binary (the larger operand first; Sub with swapped operands negates);
// Pow by a constant scalar to eltwise_pow; other broadcasts run the reference kernel.
#include <cmath>

#include "lowerer.h"
#include "ops/op.h"

namespace vqi::infer::onednn {
namespace {

using namespace internal;

Status Infer(const Node& n, int64_t, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  const Shape& s = in[0].shape;
  if (in.size() < 2 || !in[1].present) return NodeError(n, "needs two inputs");
  if (!Broadcast(s, in[1].shape, &out[0].shape))
    return NodeError(
        n, "shapes " + ShapeString(s) + " and " + ShapeString(in[1].shape) + " do not broadcast");
  if (in[0].dtype != in[1].dtype) return NodeError(n, "input types differ");
  return Status::Ok();
}

template <typename T, typename F>
void BinaryLoop(const Shape& os, const Shape& as, const Shape& bs, const T* a, const T* b, T* o,
                F f) {
  int64_t sa[kMaxRank], sb[kMaxRank], c[kMaxRank] = {0};
  BroadcastStrides(as, os, sa);
  BroadcastStrides(bs, os, sb);
  int r = static_cast<int>(os.size());
  int64_t n = NumElements(os), ia = 0, ib = 0;
  for (int64_t k = 0; k < n; ++k) {
    o[k] = f(a[ia], b[ib]);
    for (int d = r - 1; d >= 0; --d) {
      ++c[d];
      ia += sa[d];
      ib += sb[d];
      if (c[d] < os[d]) break;
      ia -= sa[d] * os[d];
      ib -= sb[d] * os[d];
      c[d] = 0;
    }
  }
}

template <typename T>
void Binary(const std::string& op, const Shape& os, const InValue& a, const InValue& b, T* o,
            const T* pa, const T* pb) {
  if (op == "Add") BinaryLoop(os, a.shape, b.shape, pa, pb, o, [](T x, T y) { return x + y; });
  if (op == "Sub") BinaryLoop(os, a.shape, b.shape, pa, pb, o, [](T x, T y) { return x - y; });
  if (op == "Mul") BinaryLoop(os, a.shape, b.shape, pa, pb, o, [](T x, T y) { return x * y; });
  if (op == "Div")
    BinaryLoop(os, a.shape, b.shape, pa, pb, o, [](T x, T y) { return y == T(0) ? T(0) : x / y; });
  if (op == "Pow")
    BinaryLoop(os, a.shape, b.shape, pa, pb, o,
               [](T x, T y) { return static_cast<T>(std::pow(double(x), double(y))); });
}

void Ref(const Node& n, int64_t, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  OutValue& o = out[0];
  if (o.f)
    Binary<float>(n.op, o.shape, in[0], in[1], o.f, in[0].f, in[1].f);
  else
    Binary<int64_t>(n.op, o.shape, in[0], in[1], o.i, in[0].i, in[1].i);
}

Status Lower(Lowerer& l, int ni) {
  const Node& n = l.graph().nodes[ni];
  int a = n.in[0], b = n.in[1], o = n.out[0];
  const Shape os = l.S(o);
  bool negate = false;
  if (l.S(a) != os) {
    if (n.op == "Add" || n.op == "Mul") {
      std::swap(a, b);
    } else if (n.op == "Sub" && l.S(b) == os) {
      std::swap(a, b);
      negate = true;
    } else {
      l.LowerRef(ni);
      return Status::Ok();
    }
  }
  LOp op{.kind = LKind::kBinary, .node = ni, .out = {o}, .negate = negate};
  op.alg = n.op == "Add"   ? dnnl::algorithm::binary_add
           : n.op == "Sub" ? dnnl::algorithm::binary_sub
           : n.op == "Mul" ? dnnl::algorithm::binary_mul
                           : dnnl::algorithm::binary_div;
  bool scalar_b = NumElements(l.S(b)) == 1 && !l.Rt(b);
  Layout lay;
  if (scalar_b) {
    lay = l.Rt(a) ? l.L(a) : Layout::kPlain;
  } else if (l.S(b) == os && l.Rt(a)) {
    lay = l.L(a);
  } else {
    lay = Layout::kPlain;
  }
  op.in = {l.Want(a, lay), scalar_b ? b : l.Want(b, lay)};
  l.Define(o, lay);
  l.Emit(op);
  return Status::Ok();
}

// x ** c for a constant scalar c: eltwise_pow (alpha 1, beta c) in x's layout.
Status LowerPow(Lowerer& l, int ni) {
  const Node& n = l.graph().nodes[ni];
  int x = n.in[0];
  const Tensor& e = l.graph().tensors[n.in[1]];
  if (!e.is_const || e.f.size() != 1 || l.S(x) != l.S(n.out[0])) {
    l.LowerRef(ni);
    return Status::Ok();
  }
  x = l.Want(x, l.L(x));
  l.Define(n.out[0], l.L(x));
  l.Emit(LOp{.kind = LKind::kEltwise,
             .node = ni,
             .in = {x},
             .out = {n.out[0]},
             .alg = dnnl::algorithm::eltwise_pow,
             .alpha = 1.f,
             .beta = e.f[0]});
  return Status::Ok();
}

}  // namespace

void AddBinaryOps(OpTable* t) {
  for (const char* op : {"Add", "Sub", "Mul", "Div"}) (*t)[op] = {Infer, Ref, Lower};
  (*t)["Pow"] = {Infer, Ref, LowerPow};
}

}  // namespace vqi::infer::onednn
