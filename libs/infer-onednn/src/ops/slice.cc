// Slice (constant starts/ends/axes/steps, negative steps). Lowered as a view when the bytes
// are contiguous, a strided copy otherwise (Lowerer::LowerParts); negative steps run the
// reference kernel.
#include <algorithm>
#include <set>

#include "lowerer.h"
#include "ops/op.h"

namespace vqi::infer::onednn {
namespace internal {

Status ComputeSlice(const Node& n, int64_t opset, const std::vector<InValue>& in,
                    std::vector<SliceAxis>* axes) {
  const Shape& s = in[0].shape;
  int64_t rank = static_cast<int64_t>(s.size());
  std::vector<int64_t> starts, ends, ax, steps;
  if (opset < 10) {
    starts = n.Ints("starts");
    ends = n.Ints("ends");
    ax = n.Ints("axes");
  } else {
    if (in.size() < 3 || !ReadInts(in[1], &starts) || !ReadInts(in[2], &ends))
      return NodeError(n, "starts/ends must be constant (cannot resolve the slice statically)");
    if (in.size() > 3 && in[3].present && !ReadInts(in[3], &ax))
      return NodeError(n, "axes must be constant");
    if (in.size() > 4 && in[4].present && !ReadInts(in[4], &steps))
      return NodeError(n, "steps must be constant");
  }
  if (ax.empty())
    for (size_t k = 0; k < starts.size(); ++k) ax.push_back(static_cast<int64_t>(k));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (starts.size() != ends.size() || ax.size() != starts.size() || steps.size() != starts.size())
    return NodeError(n, "starts/ends/axes/steps lengths differ");
  axes->assign(rank, SliceAxis{});
  for (int64_t k = 0; k < rank; ++k) (*axes)[k].count = s[k];
  std::set<int64_t> seen;
  for (size_t k = 0; k < ax.size(); ++k) {
    int64_t a = ax[k];
    if (!NormAxis(&a, rank) || !seen.insert(a).second) return NodeError(n, "bad slice axis");
    int64_t dim = s[a], step = steps[k];
    if (step == 0) return NodeError(n, "slice step 0");
    int64_t st = starts[k], en = ends[k];
    if (st < 0) st += dim;
    if (en < 0) en += dim;
    int64_t count;
    if (step > 0) {
      st = std::clamp<int64_t>(st, 0, dim);
      en = std::clamp<int64_t>(en, 0, dim);
      count = en > st ? (en - st + step - 1) / step : 0;
    } else {
      st = std::clamp<int64_t>(st, 0, dim - 1);
      en = std::clamp<int64_t>(en, -1, dim - 1);
      count = st > en ? (st - en + (-step) - 1) / (-step) : 0;
    }
    (*axes)[a] = SliceAxis{st, step, count};
  }
  return Status::Ok();
}

}  // namespace internal

namespace {

using namespace internal;

Status Infer(const Node& n, int64_t opset, const std::vector<InValue>& in,
             std::vector<OutValue>& out) {
  std::vector<SliceAxis> ax;
  VQI_RETURN_IF_ERROR(ComputeSlice(n, opset, in, &ax));
  const int64_t rank = static_cast<int64_t>(in[0].shape.size());
  out[0].shape.resize(rank);
  for (int64_t k = 0; k < rank; ++k) out[0].shape[k] = ax[k].count;
  return Status::Ok();
}

void Ref(const Node& n, int64_t opset, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  const Shape& s = in[0].shape;
  int64_t r = static_cast<int64_t>(s.size());
  int64_t rs[kMaxRank], st[kMaxRank];
  RowStrides(s, rs);
  std::vector<SliceAxis> ax;
  (void)ComputeSlice(n, opset, in, &ax);
  int64_t off = 0;
  for (int64_t d = 0; d < r; ++d) {
    off += ax[d].start * rs[d];
    st[d] = ax[d].step * rs[d];
  }
  if (NumElements(out[0].shape)) CopyView(in[0], out[0].shape, st, off, out[0]);
}

Status Lower(Lowerer& l, int ni) {
  const Node& n = l.graph().nodes[ni];
  std::vector<InValue> in;
  for (int t : n.in) in.push_back(t >= 0 ? ViewOf(l.graph().tensors[t]) : InValue{});
  std::vector<SliceAxis> ax;
  VQI_RETURN_IF_ERROR(ComputeSlice(n, l.opset(), in, &ax));
  return l.LowerParts(ni, {ax});
}

}  // namespace

void AddSliceOps(OpTable* t) { (*t)["Slice"] = {Infer, Ref, Lower}; }

}  // namespace vqi::infer::onednn
