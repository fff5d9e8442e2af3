// Transpose (any permutation). Lowered to one strided reorder on plain tensors.
#include "lowerer.h"
#include "ops/op.h"

namespace vqi::infer::onednn {
namespace {

using namespace internal;

std::vector<int64_t> Perm(const Node& n, int64_t rank) {
  auto perm = n.Ints("perm");
  if (perm.empty())
    for (int64_t k = rank - 1; k >= 0; --k) perm.push_back(k);
  return perm;
}

Status Infer(const Node& n, int64_t, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  const Shape& s = in[0].shape;
  const int64_t rank = static_cast<int64_t>(s.size());
  auto perm = Perm(n, rank);
  if (static_cast<int64_t>(perm.size()) != rank) return NodeError(n, "perm rank mismatch");
  std::vector<bool> used(rank, false);
  out[0].shape.resize(rank);
  for (int64_t k = 0; k < rank; ++k) {
    if (perm[k] < 0 || perm[k] >= rank || used[perm[k]]) return NodeError(n, "bad perm");
    used[perm[k]] = true;
    out[0].shape[k] = s[perm[k]];
  }
  return Status::Ok();
}

void Ref(const Node& n, int64_t, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  const Shape& s = in[0].shape;
  const int64_t r = static_cast<int64_t>(s.size());
  auto perm = Perm(n, r);
  int64_t rs[kMaxRank], st[kMaxRank];
  RowStrides(s, rs);
  for (int64_t k = 0; k < r; ++k) st[k] = rs[perm[k]];
  CopyView(in[0], out[0].shape, st, 0, out[0]);
}

Status Lower(Lowerer& l, int ni) {
  const Node& n = l.graph().nodes[ni];
  int px = l.Want(n.in[0], Layout::kPlain);
  const Shape s = l.S(px);
  auto perm = Perm(n, static_cast<int64_t>(s.size()));
  auto rs = RowStrides(s);
  LOp c{.kind = LKind::kStridedCopy, .node = ni, .in = {px}, .out = {n.out[0]}};
  for (int64_t a : perm) c.src_strides.push_back(rs[a]);
  l.Define(n.out[0], Layout::kPlain);
  l.Emit(c);
  return Status::Ok();
}

}  // namespace

void AddTransposeOps(OpTable* t) { (*t)["Transpose"] = {Infer, Ref, Lower}; }

}  // namespace vqi::infer::onednn
