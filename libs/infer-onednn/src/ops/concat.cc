// Concat (any axis). Lowered to an in-place concat when the inputs can be produced straight
// into their slots of the output (blocked channel slices, or a contiguous outer split), else
// a copying concat (the channels-last loop or oneDNN's); s8 when every input carries the
// output's scale and one of them is s8, else bf16 when one of them is bf16.
#include <cstring>

#include "lowerer.h"
#include "ops/op.h"

namespace vqi::infer::onednn {
namespace {

using namespace internal;

int64_t Prod(const Shape& s, size_t from, size_t to) {
  int64_t n = 1;
  for (size_t k = from; k < to && k < s.size(); ++k) n *= s[k];
  return n;
}

Status Infer(const Node& n, int64_t, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  const Shape& s = in[0].shape;
  const int64_t rank = static_cast<int64_t>(s.size());
  int64_t axis = n.Int("axis", 0);
  if (!NormAxis(&axis, rank)) return NodeError(n, "bad concat axis");
  Shape r = s;
  r[axis] = 0;
  for (const auto& v : in) {
    if (!v.present) continue;
    if (v.shape.size() != s.size() || v.dtype != in[0].dtype)
      return NodeError(n, "inputs differ in rank or type");
    for (int64_t k = 0; k < rank; ++k)
      if (k != axis && v.shape[k] != s[k])
        return NodeError(n, "input shapes " + ShapeString(v.shape) + " and " + ShapeString(s) +
                                " differ outside the concat axis");
    r[axis] += v.shape[axis];
  }
  out[0].shape = r;
  return Status::Ok();
}

void Ref(const Node& n, int64_t, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  OutValue& o = out[0];
  const Shape& s = in[0].shape;
  int64_t axis = n.Int("axis", 0);
  NormAxis(&axis, static_cast<int64_t>(s.size()));
  int64_t outer = 1, inner = 1;
  for (size_t k = 0; k < s.size(); ++k) {
    if (static_cast<int64_t>(k) < axis) outer *= s[k];
    if (static_cast<int64_t>(k) > axis) inner *= s[k];
  }
  int64_t oaxis = o.shape[axis], pos = 0;
  for (const auto& v : in) {
    if (!v.present) continue;
    int64_t len = v.shape[axis] * inner;
    for (int64_t a = 0; a < outer; ++a) {
      if (o.f)
        std::memcpy(o.f + a * oaxis * inner + pos, v.f + a * len, len * sizeof(float));
      else
        std::memcpy(o.i + a * oaxis * inner + pos, v.i + a * len, len * sizeof(int64_t));
    }
    pos += len;
  }
}

Status Lower(Lowerer& l, int ni) {
  const Node& n = l.graph().nodes[ni];
  int o = n.out[0];
  const Shape os = l.S(o);
  int64_t axis = n.Int("axis", 0);
  NormAxis(&axis, static_cast<int64_t>(os.size()));
  std::vector<int> ins;
  for (int t : n.in)
    if (t >= 0 && NumElements(l.S(t)) > 0) ins.push_back(t);
  bool blocked = os.size() == 4 && axis == 1;
  for (int t : ins) blocked = blocked && l.Rt(t) && l.L(t) == Layout::kBlocked;
  Layout lay = blocked ? Layout::kBlocked : Layout::kPlain;
  // s8 when every input carries the output's scale and one of them is already s8.
  bool q = l.Q(o) > 0, any_s8 = false;
  for (int t : ins) {
    q = q && l.Rt(t) && l.Q(t) == l.Q(o);
    any_s8 = any_s8 || l.S8(t);
  }
  q = q && any_s8;
  // Otherwise bf16 when every input is computed at run time and one of them is bf16.
  bool h = !q, any_bf16 = false;
  for (int t : ins) {
    h = h && l.Rt(t);
    any_bf16 = any_bf16 || l.Bf16(t);
  }
  const Store st = q ? Store::kS8 : h && any_bf16 ? Store::kBf16 : Store::kF32;
  const int64_t es = q ? 1 : st == Store::kBf16 ? 2 : 4;
  const int64_t block = l.block();
  LOp c{.kind = LKind::kConcat, .node = ni, .out = {o}, .axis = static_cast<int>(axis)};
  for (int t : ins) c.in.push_back(l.Want(t, lay, st));
  if (blocked) {
    c.inplace = os[0] == 1 && block > 0;
    int64_t ch = 0;
    for (size_t k = 0; k < ins.size(); ++k) {
      if (k + 1 < ins.size() && (block == 0 || l.S(ins[k])[1] % block != 0)) c.inplace = false;
      c.slot_off.push_back(ch * os[2] * os[3] * es);
      ch += l.S(ins[k])[1];
    }
  } else {
    c.inplace = Prod(os, 0, axis) == 1;
    int64_t inner = Prod(os, axis + 1, os.size()), pos = 0;
    for (int t : ins) {
      c.slot_off.push_back(pos * inner * es);
      pos += l.S(t)[axis];
    }
  }
  c.copy_in.assign(c.in.size(), true);
  l.Define(o, lay, true, st);
  l.Emit(c);
  return Status::Ok();
}

}  // namespace

void AddConcatOps(OpTable* t) { (*t)["Concat"] = {Infer, Ref, Lower}; }

}  // namespace vqi::infer::onednn
