// Split (sizes from the attribute, the input, or equal parts). Lowered as views of the
// input when the bytes are contiguous (blocked channel halves of C2f), else strided copies.
#include <algorithm>

#include "lowerer.h"
#include "ops/op.h"

namespace vqi::infer::onednn {
namespace {

using namespace internal;

// Split sizes along the (normalized) axis.
Status ComputeSplit(const Node& n, int64_t opset, const std::vector<InValue>& in, int64_t* axis,
                    std::vector<int64_t>* sizes) {
  const Shape& s = in[0].shape;
  *axis = n.Int("axis", 0);
  if (!NormAxis(axis, static_cast<int64_t>(s.size()))) return NodeError(n, "bad split axis");
  int64_t dim = s[*axis];
  int64_t parts = static_cast<int64_t>(n.out.size());
  sizes->clear();
  if (opset < 13 && n.Has("split")) {
    *sizes = n.Ints("split");
  } else if (opset >= 13 && in.size() > 1 && in[1].present) {
    if (!ReadInts(in[1], sizes)) return NodeError(n, "split sizes must be constant");
  } else {
    if (n.Has("num_outputs")) parts = n.Int("num_outputs", parts);
    if (parts <= 0) return NodeError(n, "no outputs");
    int64_t chunk = (dim + parts - 1) / parts;
    for (int64_t k = 0; k < parts; ++k)
      sizes->push_back(std::max<int64_t>(0, std::min(chunk, dim - k * chunk)));
  }
  int64_t total = 0;
  for (int64_t v : *sizes) {
    if (v < 0) return NodeError(n, "negative split size");
    total += v;
  }
  if (total != dim || sizes->size() != n.out.size())
    return NodeError(n, "split sizes do not add up to dimension " + std::to_string(dim) +
                            " or do not match the output count");
  return Status::Ok();
}

Status Infer(const Node& n, int64_t opset, const std::vector<InValue>& in,
             std::vector<OutValue>& out) {
  int64_t axis;
  std::vector<int64_t> sizes;
  VQI_RETURN_IF_ERROR(ComputeSplit(n, opset, in, &axis, &sizes));
  for (size_t k = 0; k < out.size(); ++k) {
    out[k].shape = in[0].shape;
    out[k].shape[axis] = sizes[k];
  }
  return Status::Ok();
}

void Ref(const Node& n, int64_t opset, const std::vector<InValue>& in, std::vector<OutValue>& out) {
  const Shape& s = in[0].shape;
  int64_t rs[kMaxRank];
  RowStrides(s, rs);
  int64_t axis;
  std::vector<int64_t> sizes;
  (void)ComputeSplit(n, opset, in, &axis, &sizes);
  int64_t start = 0;
  for (size_t k = 0; k < out.size(); ++k) {
    if (out[k].f || out[k].i)
      if (NumElements(out[k].shape)) CopyView(in[0], out[k].shape, rs, start * rs[axis], out[k]);
    start += sizes[k];
  }
}

Status Lower(Lowerer& l, int ni) {
  const Node& n = l.graph().nodes[ni];
  const Shape s = l.S(n.in[0]);
  const int64_t rank = static_cast<int64_t>(s.size());
  std::vector<InValue> in;
  for (int t : n.in) in.push_back(t >= 0 ? ViewOf(l.graph().tensors[t]) : InValue{});
  int64_t axis;
  std::vector<int64_t> sizes;
  VQI_RETURN_IF_ERROR(ComputeSplit(n, l.opset(), in, &axis, &sizes));
  std::vector<std::vector<SliceAxis>> views;
  int64_t start = 0;
  for (int64_t sz : sizes) {
    std::vector<SliceAxis> ax(rank);
    for (int64_t d = 0; d < rank; ++d) ax[d] = {0, 1, s[d]};
    ax[axis] = {start, 1, sz};
    start += sz;
    views.push_back(ax);
  }
  return l.LowerParts(ni, views);
}

}  // namespace

void AddSplitOps(OpTable* t) { (*t)["Split"] = {Infer, Ref, Lower}; }

}  // namespace vqi::infer::onednn
