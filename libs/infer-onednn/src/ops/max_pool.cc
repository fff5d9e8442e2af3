// MaxPool (2-D, ceil_mode, padding; s8 data kept s8). Lowered to a oneDNN max pooling;
// dilated windows run the reference kernel.
#include <algorithm>
#include <limits>

#include "lowerer.h"
#include "ops/op.h"

namespace vqi::infer::onednn {
namespace {

using namespace internal;

Status Infer(const Node& n, int64_t, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  VQI_RETURN_IF_ERROR(NeedFloat(n, in, 0));
  const Shape& s = in[0].shape;
  if (s.size() != 4) return NodeError(n, "only 2-D pooling supported");
  if (out.size() > 1 && n.out[1] >= 0) return NodeError(n, "Indices output not supported");
  auto ks = n.Ints("kernel_shape");
  if (ks.size() != 2) return NodeError(n, "kernel_shape must have 2 values");
  Window win;
  VQI_RETURN_IF_ERROR(ComputeWindow(n, s[2], s[3], ks[0], ks[1], n.Int("ceil_mode", 0), &win));
  out[0].shape = {s[0], s[1], win.oh, win.ow};
  return Status::Ok();
}

void Ref(const Node& n, int64_t, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  const InValue& x = in[0];
  OutValue& o = out[0];
  const Shape& s = x.shape;
  auto ks = n.Ints("kernel_shape");
  Window win;
  (void)ComputeWindow(n, s[2], s[3], ks[0], ks[1], n.Int("ceil_mode", 0), &win);
  for (int64_t bc = 0; bc < s[0] * s[1]; ++bc)
    for (int64_t oy = 0; oy < win.oh; ++oy)
      for (int64_t ox = 0; ox < win.ow; ++ox) {
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t ky = 0; ky < win.kh; ++ky) {
          int64_t iy = oy * win.sh - win.pt + ky * win.dh;
          if (iy < 0 || iy >= s[2]) continue;
          for (int64_t kx = 0; kx < win.kw; ++kx) {
            int64_t ix = ox * win.sw - win.pl + kx * win.dw;
            if (ix < 0 || ix >= s[3]) continue;
            m = std::max(m, x.f[(bc * s[2] + iy) * s[3] + ix]);
          }
        }
        o.f[(bc * win.oh + oy) * win.ow + ox] = m;
      }
}

Status Lower(Lowerer& l, int ni) {
  const Node& n = l.graph().nodes[ni];
  int x = n.in[0];
  bool dil1 = true;
  for (int64_t d : n.Ints("dilations")) dil1 = dil1 && d == 1;
  if (!dil1) {
    l.LowerRef(ni);
    return Status::Ok();
  }
  const Store st = l.Keep(x, n.out[0]);
  x = l.Want(x, l.L(x), st);
  l.Define(n.out[0], l.L(x), true, st);
  l.Emit(LOp{.kind = LKind::kPool, .node = ni, .in = {x}, .out = {n.out[0]}});
  return Status::Ok();
}

}  // namespace

void AddMaxPoolOps(OpTable* t) { (*t)["MaxPool"] = {Infer, Ref, Lower}; }

}  // namespace vqi::infer::onednn
