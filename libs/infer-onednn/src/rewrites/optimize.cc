// OptimizeGraph: the rewrites in their order (passes.h).
#include "ops.h"
#include "passes.h"
#include "rewrites/common.h"

namespace vqi::infer::onednn {

Status OptimizeGraph(Graph* g, const OptimizeOptions& options) {
  for (const Node& n : g->nodes)
    if (!IsSupportedOp(n.op))
      return Unimplemented(n.Where() + ": unsupported operator '" + n.op + "'");
  VQI_RETURN_IF_ERROR(InferAndFold(g));
  VQI_RETURN_IF_ERROR(FoldQdq(g));
  RemoveDeadNodes(g);
  if (options.fuse) {
    RemoveIdentities(g);
    FoldBatchNorm(g);
    FuseConvActivation(g);
    FuseConvAdd(g);
    FuseConvActivation(g);
    FoldConcatOfSplit(g);
    FuseDetectDecode(g);
  }
  RemoveDeadNodes(g);
  return Status::Ok();
}

}  // namespace vqi::infer::onednn
