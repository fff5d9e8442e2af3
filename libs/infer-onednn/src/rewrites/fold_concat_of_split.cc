// FoldConcatOfSplit: Concat(..., parts of x in order, ...) reads x instead, where the parts are
// the outputs of a Split or Slices of x along the concat axis that together cover x (C2f: the
// halves of cv1 are concatenated again; one copy instead of two, and in nhwc the first half,
// read by nobody else, is not copied at all).
#include "passes.h"
#include "rewrites/common.h"

namespace vqi::infer::onednn {

using rewrites::PartOf;

void FoldConcatOfSplit(Graph* g) {
  for (Node& cat : g->nodes) {
    if (cat.dead || cat.op != "Concat") continue;
    const int64_t rank = static_cast<int64_t>(g->tensors[cat.out[0]].shape.size());
    int64_t axis = cat.Int("axis", 0);
    if (axis < 0) axis += rank;
    std::vector<int> in;
    for (size_t k = 0; k < cat.in.size(); ++k) {
      int t = cat.in[k], src = -1;
      int64_t start = 0, count = 0;
      if (t < 0 || !PartOf(*g, t, axis, &src, &start, &count) || start != 0) {
        in.push_back(t);
        continue;
      }
      // Consecutive parts of src, each starting where the previous ended, up to its end.
      const int64_t dim = g->tensors[src].shape[axis];
      int64_t pos = count;
      size_t j = k + 1;
      for (; pos < dim && j < cat.in.size(); ++j) {
        int s2 = -1;
        if (cat.in[j] < 0 || !PartOf(*g, cat.in[j], axis, &s2, &start, &count) || s2 != src ||
            start != pos)
          break;
        pos += count;
      }
      if (pos != dim) {
        in.push_back(t);
        continue;
      }
      in.push_back(src);
      k = j - 1;
    }
    cat.in = in;
  }
}

}  // namespace vqi::infer::onednn
