// Operator semantics of the oneDNN backend's ONNX subset: static shape inference and naive
// reference kernels (plain row-major layout), dispatched through the operator table
// (ops/op.h: one file per operator under ops/, which also holds its lowering). The reference
// kernels fold constants at load time, run ops oneDNN has no primitive for, and are the oracle of
// the op tests.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "graph.h"

namespace vqi::infer::onednn {

// An input as seen by an op: shape, type and (for constants or when computing) data.
// `present` is false for an absent optional input.
struct InValue {
  bool present = false;
  DType dtype = DType::kFloat;
  Shape shape;
  const float* f = nullptr;
  const int64_t* i = nullptr;
  int elem_type = 0;  // Tensor::elem_type (QuantizeLinear's zero point decides int8 vs uint8)
  bool has_data() const { return f != nullptr || i != nullptr; }
};

struct OutValue {
  DType dtype = DType::kFloat;
  Shape shape;
  float* f = nullptr;
  int64_t* i = nullptr;
};

// True if `op` is in the supported operator set.
bool IsSupportedOp(const std::string& op);

// Sets dtype and shape of each output. Inputs that determine shapes (Reshape's shape, Slice's
// starts, Resize's scales, ...) must carry data; otherwise the error says the dimension cannot
// be resolved statically. Errors name the node.
Status InferOp(const Node& n, int64_t opset, const std::vector<InValue>& in,
               std::vector<OutValue>* out);

// ResourceExhausted naming the node and tensor `t` when `shape` holds more than
// kMaxTensorElements (limits.h). Checked before any output is allocated.
Status CheckTensorSize(const Node& n, const Tensor& t, const Shape& shape);

// Computes the outputs into caller-provided buffers of NumElements(shape) elements.
// REQUIRES: InferOp succeeded with the same inputs; every input has data. Allocation-free.
void RefOp(const Node& n, int64_t opset, const std::vector<InValue>& in,
           std::vector<OutValue>& out);

// Resize helpers shared with the compiler: the source index of output index `o` along an axis.
int64_t ResizeNearestIndex(const Node& n, int64_t o, int64_t in_size, int64_t out_size,
                           float scale);

// Runs the whole graph with the reference kernels (the oracle of the tests). `output` is
// resized to the output's element count. `observe`, when set, sees every node output as it is
// computed (tensor id and value).
using RefObserver = std::function<void(int tensor, const Tensor& value)>;
Status RefRun(const Graph& g, const float* input, std::vector<float>* output,
              const RefObserver& observe = nullptr);

}  // namespace vqi::infer::onednn
