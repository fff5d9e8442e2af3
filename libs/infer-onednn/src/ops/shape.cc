// Shape, Gather, Expand: the shape arithmetic of older exports. Shape folds from the static
// shape (never the data); Gather and Expand fold when their inputs are constants and run the
// reference kernel otherwise.
#include <algorithm>

#include "ops/op.h"

namespace vqi::infer::onednn {
namespace {

using namespace internal;

Status InferShape(const Node& n, int64_t, const std::vector<InValue>& in,
                  std::vector<OutValue>& out) {
  const int64_t rank = static_cast<int64_t>(in[0].shape.size());
  int64_t st = n.Int("start", 0), en = n.Int("end", rank);
  if (st < 0) st += rank;
  if (en < 0) en += rank;
  st = std::clamp<int64_t>(st, 0, rank);
  en = std::clamp<int64_t>(en, 0, rank);
  out[0].dtype = DType::kInt64;
  out[0].shape = {std::max<int64_t>(0, en - st)};
  return Status::Ok();
}

void RefShape(const Node& n, int64_t, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  const Shape& s = in[0].shape;
  int64_t r = static_cast<int64_t>(s.size());
  int64_t b = n.Int("start", 0);
  if (b < 0) b += r;
  b = std::clamp<int64_t>(b, 0, r);
  const int64_t total = NumElements(out[0].shape);
  for (int64_t k = 0; k < total; ++k) out[0].i[k] = s[b + k];
}

Status InferGather(const Node& n, int64_t, const std::vector<InValue>& in,
                   std::vector<OutValue>& out) {
  const Shape& s = in[0].shape;
  if (in.size() < 2 || !in[1].present || in[1].dtype != DType::kInt64)
    return NodeError(n, "needs integer indices");
  int64_t axis = n.Int("axis", 0);
  if (!NormAxis(&axis, static_cast<int64_t>(s.size()))) return NodeError(n, "bad gather axis");
  if (!in[1].has_data()) return NodeError(n, "indices must be constant");
  for (int64_t k = 0; k < NumElements(in[1].shape); ++k)
    if (in[1].i[k] < -s[axis] || in[1].i[k] >= s[axis])
      return NodeError(n, "gather index out of range");
  Shape r(s.begin(), s.begin() + axis);
  r.insert(r.end(), in[1].shape.begin(), in[1].shape.end());
  r.insert(r.end(), s.begin() + axis + 1, s.end());
  out[0].shape = r;
  return Status::Ok();
}

void RefGather(const Node& n, int64_t, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  const InValue& x = in[0];
  OutValue& o = out[0];
  const Shape& s = x.shape;
  int64_t axis = n.Int("axis", 0);
  NormAxis(&axis, static_cast<int64_t>(s.size()));
  int64_t outer = 1, inner = 1;
  for (size_t k = 0; k < s.size(); ++k) {
    if (static_cast<int64_t>(k) < axis) outer *= s[k];
    if (static_cast<int64_t>(k) > axis) inner *= s[k];
  }
  int64_t ni = NumElements(in[1].shape), dim = s[axis];
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t j = 0; j < ni; ++j) {
      int64_t id = in[1].i[j] < 0 ? in[1].i[j] + dim : in[1].i[j];
      for (int64_t b = 0; b < inner; ++b) {
        int64_t src = (a * dim + id) * inner + b, dst = (a * ni + j) * inner + b;
        if (o.f)
          o.f[dst] = x.f[src];
        else
          o.i[dst] = x.i[src];
      }
    }
}

Status InferExpand(const Node& n, int64_t, const std::vector<InValue>& in,
                   std::vector<OutValue>& out) {
  std::vector<int64_t> t;
  if (in.size() < 2 || !ReadInts(in[1], &t)) return NodeError(n, "shape must be constant");
  if (t.size() > static_cast<size_t>(kMaxRank))
    return NodeError(n, "rank above " + std::to_string(kMaxRank));
  if (!Broadcast(in[0].shape, t, &out[0].shape)) return NodeError(n, "shape does not broadcast");
  return Status::Ok();
}

void RefExpand(const Node&, int64_t, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  int64_t st[kMaxRank];
  BroadcastStrides(in[0].shape, out[0].shape, st);
  CopyView(in[0], out[0].shape, st, 0, out[0]);
}

}  // namespace

void AddShapeOps(OpTable* t) {
  (*t)["Shape"] = {InferShape, RefShape, nullptr};
  (*t)["Gather"] = {InferGather, RefGather, nullptr};
  (*t)["Expand"] = {InferExpand, RefExpand, nullptr};
}

}  // namespace vqi::infer::onednn
