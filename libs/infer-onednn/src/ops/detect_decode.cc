// VqiDetectDecode: the YOLOv8 detect head after its last convolutions, fused by
// FuseDetectDecode (rewrites/fuse_detect_decode.cc); never read from a file (OpDef::internal).
// Inputs: box_0, cls_0, ..., box_{L-1}, cls_{L-1} ([1, 4*reg_max, H, W], [1, nc, H, W] per
// level), then the constants dfl_w [reg_max], anchor [2, A], half [2, A], stride [4, A].
// Attributes: levels, reg_max, shape (the output's, (4 + nc) * A elements). The kernel is
// detect_decode.cc; the reference runs it on plain inputs (the oracle of the tests is the
// unfused graph).
#include "detect_decode.h"

#include "lowerer.h"
#include "ops/op.h"

namespace vqi::infer::onednn {
namespace {

using namespace internal;

Status Infer(const Node& n, int64_t, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  const int64_t levels = n.Int("levels", 0), r = n.Int("reg_max", 0);
  if (levels <= 0 || r <= 0 || r > kMaxDecodeBins ||
      in.size() != static_cast<size_t>(2 * levels + 4))
    return NodeError(n, "malformed fused detect decode");
  int64_t nc = -1, anchors = 0;
  for (int64_t k = 0; k < levels; ++k) {
    const Shape& b = in[2 * k].shape;
    const Shape& c = in[2 * k + 1].shape;
    if (b.size() != 4 || c.size() != 4 || b[0] != 1 || c[0] != 1 || b[1] != 4 * r || b[2] != c[2] ||
        b[3] != c[3] || (nc >= 0 && c[1] != nc))
      return NodeError(n, "level " + std::to_string(k) + ": box " + ShapeString(b) + " and class " +
                              ShapeString(c) + " inputs do not match");
    nc = c[1];
    anchors += b[2] * b[3];
  }
  const size_t m = static_cast<size_t>(2 * levels);
  for (size_t k = 0; k < 4; ++k)
    if (!in[m + k].f) return NodeError(n, "decode constants missing");
  if (NumElements(in[m].shape) != r || NumElements(in[m + 1].shape) != 2 * anchors ||
      NumElements(in[m + 2].shape) != 2 * anchors || NumElements(in[m + 3].shape) != 4 * anchors)
    return NodeError(n, "decode constants do not match " + std::to_string(anchors) + " anchors");
  Shape s = n.Ints("shape");
  if (NumElements(s) != (4 + nc) * anchors)
    return NodeError(n, "output shape " + ShapeString(s) + " does not hold " +
                            std::to_string(4 + nc) + " x " + std::to_string(anchors) + " values");
  out[0].shape = s;
  return Status::Ok();
}

DecodeParams Params(const Node& n, const std::vector<const float*>& c, const Shape& cls0,
                    int64_t anchors) {
  DecodeParams p;
  p.reg_max = n.Int("reg_max", 16);
  p.nc = cls0[1];
  p.anchors = anchors;
  p.dfl_w = c[0];
  p.anchor = c[1];
  p.half = c[2];
  p.stride = c[3];
  return p;
}

void Ref(const Node& n, int64_t, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  const size_t levels = static_cast<size_t>(n.Int("levels", 0));
  std::vector<DecodeInput> box(levels), cls(levels);
  int64_t anchors = 0;
  for (size_t k = 0; k < levels; ++k) {
    const Shape& s = in[2 * k].shape;
    box[k] = {in[2 * k].f, s[2] * s[3], 1, 1};
    cls[k] = {in[2 * k + 1].f, s[2] * s[3], 1, 1};
    anchors += s[2] * s[3];
  }
  std::vector<const float*> c;
  for (size_t k = 0; k < 4; ++k) c.push_back(in[2 * levels + k].f);
  DetectDecode(Params(n, c, in[1].shape, anchors), box.data(), cls.data(), levels, out[0].f);
}

// Each branch output stays in the layout its convolution wrote (nhwc, nChw16c or plain; f32,
// converted once if it is s8 or bf16); the result is plain, usually the caller's buffer.
Status Lower(Lowerer& l, int ni) {
  const Node& n = l.graph().nodes[ni];
  const size_t m = static_cast<size_t>(2 * n.Int("levels", 0));
  LOp op{.kind = LKind::kDetectDecode, .node = ni, .out = {n.out[0]}};
  for (size_t k = 0; k < m; ++k) {
    int t = n.in[k];
    if (!l.Rt(t) || l.S(t).size() != 4) {
      l.LowerRef(ni);
      return Status::Ok();
    }
    op.in.push_back(l.Want(t, l.L(t), Store::kF32));
  }
  l.Define(n.out[0], Layout::kPlain);
  l.Emit(op);
  return Status::Ok();
}

}  // namespace

void AddDetectDecodeOps(OpTable* t) {
  (*t)["VqiDetectDecode"] = {.infer = Infer, .ref = Ref, .lower = Lower, .internal = true};
}

}  // namespace vqi::infer::onednn
