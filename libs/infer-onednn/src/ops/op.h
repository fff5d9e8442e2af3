// The operator table of the oneDNN backend. Each supported ONNX operator lives in one file
// under src/ops/ holding its static shape inference, its naive reference kernel and its
// lowering to LOps (as ONNX Runtime and ncnn keep kernels); each file adds its entries in an
// Add*Ops function, called once by ops/op_table.cc (explicitly: no static initializers for a
// static-library link to drop). A new operator is one new file and one line there.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "ops.h"
#include "ops/common.h"

namespace vqi::infer::onednn {

class Lowerer;

struct OpDef {
  // Sets dtype and shape of each output; `out` arrives with the dtype of input 0. Inputs that
  // determine shapes must carry data, else the error says the dimension cannot be resolved
  // statically. Errors name the node. Never null.
  Status (*infer)(const Node& n, int64_t opset, const std::vector<InValue>& in,
                  std::vector<OutValue>& out) = nullptr;
  // Computes the outputs into caller-provided buffers (plain row-major). REQUIRES: `infer`
  // succeeded on the same inputs, every input has data. Allocation-free. Never null.
  void (*ref)(const Node& n, int64_t opset, const std::vector<InValue>& in,
              std::vector<OutValue>& out) = nullptr;
  // Appends the node's LOps (layouts, views, primitives) to the program. Null: the reference
  // kernel runs as a step (rare ops, and ops that are always folded at load).
  Status (*lower)(Lowerer& l, int node) = nullptr;
  // Created only by a rewrite (FuseDetectDecode), never accepted from a file.
  bool internal = false;
};
using OpTable = std::map<std::string, OpDef>;

// nullptr for an unsupported operator.
const OpDef* FindOp(const std::string& op);

// One per operator file.
void AddBatchNormOps(OpTable* t);
void AddBinaryOps(OpTable* t);
void AddCastOps(OpTable* t);
void AddConcatOps(OpTable* t);
void AddConstantOps(OpTable* t);
void AddConvOps(OpTable* t);
void AddDetectDecodeOps(OpTable* t);
void AddEltwiseOps(OpTable* t);
void AddMaxPoolOps(OpTable* t);
void AddQuantizeOps(OpTable* t);
void AddReshapeOps(OpTable* t);
void AddResizeOps(OpTable* t);
void AddShapeOps(OpTable* t);
void AddSliceOps(OpTable* t);
void AddSoftmaxOps(OpTable* t);
void AddSplitOps(OpTable* t);
void AddTransposeOps(OpTable* t);

}  // namespace vqi::infer::onednn
