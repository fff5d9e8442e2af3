// Reshape, Flatten, Squeeze, Unsqueeze, Identity: the same bytes under another shape. Lowered
// to a zero-copy view of the plain input.
#include <cstring>

#include "lowerer.h"
#include "ops/op.h"

namespace vqi::infer::onednn {
namespace {

using namespace internal;

// Axes for Squeeze/Unsqueeze (attribute before opset 13, input after), not normalized.
bool SqueezeAxes(const Node& n, int64_t opset, const std::vector<InValue>& in,
                 std::vector<int64_t>* axes, bool* given) {
  *given = true;
  if (opset < 13) {
    *given = n.Has("axes");
    *axes = n.Ints("axes");
    return true;
  }
  if (in.size() < 2 || !in[1].present) {
    *given = false;
    return true;
  }
  return ReadInts(in[1], axes);
}

Status InferReshape(const Node& n, int64_t opset, const std::vector<InValue>& in,
                    std::vector<OutValue>& out) {
  const Shape& s = in[0].shape;
  std::vector<int64_t> t;
  if (opset < 5) {
    t = n.Ints("shape");
  } else if (in.size() < 2 || !ReadInts(in[1], &t)) {
    return NodeError(n, "target shape cannot be resolved statically (not a constant)");
  }
  int64_t known = 1, infer = -1;
  bool allowzero = n.Int("allowzero", 0) != 0;
  for (size_t k = 0; k < t.size(); ++k) {
    if (t[k] == 0 && !allowzero) {
      if (k >= s.size()) return NodeError(n, "0 in shape beyond input rank");
      t[k] = s[k];
    }
    if (t[k] == -1) {
      if (infer >= 0) return NodeError(n, "more than one -1 in shape");
      infer = static_cast<int64_t>(k);
    } else if (t[k] < 0) {
      return NodeError(n, "negative dimension in shape");
    } else if (__builtin_mul_overflow(known, t[k], &known)) {
      return NodeError(n, "shape " + ShapeString(t) + " overflows");
    }
  }
  int64_t total = NumElements(s);
  if (infer >= 0) {
    if (known == 0 || total % known) return NodeError(n, "cannot infer -1 dimension");
    t[infer] = total / known;
  }
  if (NumElements(t) != total)
    return NodeError(n, "cannot reshape " + ShapeString(s) + " to " + ShapeString(t));
  out[0].shape = t;
  return Status::Ok();
}

Status InferFlatten(const Node& n, int64_t, const std::vector<InValue>& in,
                    std::vector<OutValue>& out) {
  const Shape& s = in[0].shape;
  const int64_t rank = static_cast<int64_t>(s.size());
  int64_t axis = n.Int("axis", 1);
  if (axis < 0) axis += rank;
  if (axis < 0 || axis > rank) return NodeError(n, "bad flatten axis");
  int64_t a = 1;
  for (int64_t k = 0; k < axis; ++k) a *= s[k];
  out[0].shape = {a, NumElements(s) / std::max<int64_t>(a, 1)};
  return Status::Ok();
}

Status InferSqueeze(const Node& n, int64_t opset, const std::vector<InValue>& in,
                    std::vector<OutValue>& out) {
  const Shape& s = in[0].shape;
  const int64_t rank = static_cast<int64_t>(s.size());
  std::vector<int64_t> axes;
  bool given;
  if (!SqueezeAxes(n, opset, in, &axes, &given)) return NodeError(n, "axes must be constant");
  if (n.op == "Unsqueeze") {
    int64_t r = rank + static_cast<int64_t>(axes.size());
    if (r > kMaxRank) return NodeError(n, "rank above " + std::to_string(kMaxRank));
    std::vector<bool> ins(r, false);
    for (int64_t a : axes) {
      if (!NormAxis(&a, r) || ins[a]) return NodeError(n, "bad unsqueeze axis");
      ins[a] = true;
    }
    Shape o;
    size_t src = 0;
    for (int64_t k = 0; k < r; ++k) o.push_back(ins[k] ? 1 : s[src++]);
    out[0].shape = o;
    return Status::Ok();
  }
  std::vector<bool> drop(rank, false);
  if (!given)
    for (int64_t k = 0; k < rank; ++k) drop[k] = s[k] == 1;
  for (int64_t a : axes) {
    if (!NormAxis(&a, rank) || s[a] != 1) return NodeError(n, "bad squeeze axis");
    drop[a] = true;
  }
  Shape o;
  for (int64_t k = 0; k < rank; ++k)
    if (!drop[k]) o.push_back(s[k]);
  out[0].shape = o;
  return Status::Ok();
}

Status InferIdentity(const Node&, int64_t, const std::vector<InValue>& in,
                     std::vector<OutValue>& out) {
  out[0].shape = in[0].shape;
  return Status::Ok();
}

void Ref(const Node&, int64_t, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  const int64_t total = NumElements(out[0].shape);
  if (out[0].f)
    std::memcpy(out[0].f, in[0].f, total * sizeof(float));
  else
    std::memcpy(out[0].i, in[0].i, total * sizeof(int64_t));
}

Status Lower(Lowerer& l, int ni) {
  const Node& n = l.graph().nodes[ni];
  int px = l.Want(n.in[0], Layout::kPlain);
  l.Define(n.out[0], Layout::kPlain, /*fresh=*/false);
  l.Emit(LOp{.kind = LKind::kView, .node = ni, .in = {px}, .out = {n.out[0]}});
  return Status::Ok();
}

}  // namespace

void AddReshapeOps(OpTable* t) {
  (*t)["Reshape"] = {InferReshape, Ref, Lower};
  (*t)["Flatten"] = {InferFlatten, Ref, Lower};
  (*t)["Squeeze"] = {InferSqueeze, Ref, Lower};
  (*t)["Unsqueeze"] = {InferSqueeze, Ref, Lower};
  (*t)["Identity"] = {InferIdentity, Ref, Lower};
}

}  // namespace vqi::infer::onednn
