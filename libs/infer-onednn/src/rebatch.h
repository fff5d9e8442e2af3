// Compiling a model exported at batch 1 for batch N (issue 22: several camera frames per run).
//
// Exports (ours and Ultralytics') are traced at batch 1: besides the input's [1,3,H,W], the
// head's Reshapes carry the batch as a literal 1 (`view(1, 4 + nc, -1)` becomes the constant
// [1,66,-1], which at batch N would silently reshape to [1,66,N*A]). RebatchGraph:
//   1. infers every shape at batch 1 (a copy of the graph, folded);
//   2. sets the input's batch to N and, for every live Reshape / Expand (shape, input 1) and
//      Resize (sizes, input 3) whose data is an activation of batch 1 and whose constant
//      target starts with a literal 1, gives that node its own copy of the constant with N in
//      front (whether the constant was a literal or folded from Shape: a dynamic export's
//      Shape -> Gather -> Concat chain folds to N by itself);
//   3. infers and folds again at batch N and checks that EVERY activation (a tensor not
//      constant at batch 1) had batch 1 in front at batch 1 and has exactly [N, same rest] at
//      batch N, and that no Softmax / LogSoftmax / Hardmax / LayerNormalization normalizes
//      over axis 0. Anything else mixes images and is refused: InvalidArgument naming the node
//      and the tensor ("cannot be re-batched ... export with a batch dimension").
//   4. gives every elementwise op (Add/Sub/Mul/Div) reading a float constant broadcast over the
//      batch (the box decode's anchors and strides) a copy repeated N times in front: oneDNN
//      2.6 would run those ops with its reference kernel (1 ms each at batch 4 for t320).
// The graph returned is folded at batch N (OptimizeGraph's InferAndFold re-infers it).
#pragma once

#include "graph.h"

namespace vqi::infer::onednn {

inline constexpr int64_t kMaxBatch = 64;  // docs/limits.md, oneDNN backend

// REQUIRES: `g` as loaded (LoadOnnx*), not yet optimized. batch 1 returns `g` unchanged.
Result<Graph> RebatchGraph(Graph g, int64_t batch);

}  // namespace vqi::infer::onednn
