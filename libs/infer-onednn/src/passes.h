// Graph rewrites run once at load, in this order by OptimizeGraph (rewrites/optimize.cc); one
// rewrite per file, rewrites/<snake_case name>.cc:
//   InferAndFold        static shapes for every tensor; nodes whose inputs are all constant
//                       (and Shape of a static tensor) are evaluated and become constants
//   FoldQdq             QDQ models: activation QuantizeLinear->DequantizeLinear pairs removed
//                       (the tensor keeps its scale, Tensor::qscale); Conv weights from
//                       DequantizeLinear(int8) keep their integers (Node::wq, wscale); anything
//                       but symmetric int8 with constant scales is an error naming the node
//   RemoveIdentities    Identity/no-op Reshape consumers read the source directly
//   FoldBatchNorm       Conv -> BatchNormalization becomes one Conv with rescaled weights
//   FuseConvActivation  Conv -> Relu/LeakyRelu/Sigmoid/HardSwish/Clip, and the SiLU pattern
//                       Mul(x, Sigmoid(x)), become post-ops of the Conv
//   FuseConvAdd         Conv -> Add(other) becomes a binary-add post-op (residual connections)
//   FoldConcatOfSplit   Concat(..., parts of x in order, ...) reads x instead, the parts being
//                       Split outputs or Slices along the concat axis covering x (C2f: the
//                       halves of cv1 are concatenated again; one copy instead of two)
//   FuseDetectDecode    the YOLOv8 detect head after its last convolutions (concats, DFL
//                       softmax and expectation, box decode, class sigmoid) becomes one
//                       VqiDetectDecode node (rewrites/fuse_detect_decode.cc)
//   RemoveDeadNodes     nodes whose outputs nobody reads
#pragma once

#include "graph.h"

namespace vqi::infer::onednn {

Status InferAndFold(Graph* g);
Status FoldQdq(Graph* g);
void RemoveIdentities(Graph* g);
void FoldBatchNorm(Graph* g);
void FuseConvActivation(Graph* g);
void FuseConvAdd(Graph* g);
void FoldConcatOfSplit(Graph* g);
void FuseDetectDecode(Graph* g);
void RemoveDeadNodes(Graph* g);

struct OptimizeOptions {
  bool fuse = true;  // false: only shape inference, folding and dead-node removal (for tests)
};
Status OptimizeGraph(Graph* g, const OptimizeOptions& options = {});

}  // namespace vqi::infer::onednn
