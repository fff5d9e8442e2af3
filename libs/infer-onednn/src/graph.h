// The graph IR of the oneDNN backend: an ONNX graph loaded once, with static shapes, constant
// tensors folded in place and fusions recorded on the nodes. Built by LoadOnnxGraph, rewritten
// by the passes in passes.h, lowered to oneDNN primitives by compiler.h.
//
// Tensors are indexed by id; -1 stands for an absent optional input. Nodes are kept in
// topological order (LoadOnnxGraph sorts and rejects cycles).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "vqi/base/status.h"

namespace onnx {
class ModelProto;
}  // namespace onnx

namespace vqi::infer::onednn {

using Shape = std::vector<int64_t>;
// Product of the dims; saturates at INT64_MAX instead of overflowing (hostile shapes).
int64_t NumElements(const Shape& s);
std::string ShapeString(const Shape& s);

enum class DType { kFloat, kInt64 };

struct Tensor {
  std::string name;
  DType dtype = DType::kFloat;
  Shape shape;
  bool shape_known = false;
  bool is_const = false;
  std::vector<float> f;    // data of a float constant
  std::vector<int64_t> i;  // data of an integer constant (int32/int64/bool all become int64)
  int producer = -1;       // node index, -1 for graph inputs and initializers
  int elem_type = 0;       // ONNX TensorProto data type of a constant read from the file (0: other)
  // Activation quantization scale (> 0) recorded by FoldQdq from a QuantizeLinear/
  // DequantizeLinear pair on this tensor (symmetric int8, zero point 0); 0: not quantized.
  float qscale = 0;
};

struct Attr {
  enum Kind { kInt, kFloat, kString, kInts, kFloats, kTensor } kind = kInt;
  int64_t i = 0;
  float f = 0;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<float> floats;
  Tensor t;
};

// An operation fused into a producing convolution (applied in order to its result).
struct PostOp {
  enum Kind { kEltwise, kAdd } kind = kEltwise;
  std::string act;  // kEltwise: Relu, Sigmoid, LeakyRelu, HardSwish, HardSigmoid, Clip, Swish
  float alpha = 0, beta = 0;
  int tensor = -1;  // kAdd: the other addend
};

struct Node {
  std::string name;
  std::string op;
  std::vector<int> in;
  std::vector<int> out;
  std::map<std::string, Attr> attrs;
  std::vector<PostOp> post;  // Conv only
  // Conv whose weights came from DequantizeLinear(int8): the int8 weight tensor (integer
  // values in Tensor::i, same dims as in[1]) and one scale per output channel. in[1] still holds
  // the dequantized float weights (for the fp32 path). -1: float weights.
  int wq = -1;
  std::vector<float> wscale;
  bool dead = false;

  bool Has(const std::string& k) const { return attrs.count(k) != 0; }
  int64_t Int(const std::string& k, int64_t def) const;
  float Float(const std::string& k, float def) const;
  std::string Str(const std::string& k, const std::string& def) const;
  std::vector<int64_t> Ints(const std::string& k) const;
  // "node 'name' (Op)" for error messages.
  std::string Where() const;
};

struct Graph {
  std::vector<Tensor> tensors;
  std::vector<Node> nodes;
  int input = -1;
  int output = -1;
  int64_t opset = 13;
  std::map<std::string, std::string> metadata;

  int AddTensor(Tensor t);
  // Uses of tensor `t` by live nodes (node indices; repeated if a node reads it twice).
  std::vector<int> Consumers(int t) const;
};

struct LoadOptions {
  // Batch dimension used when the model declares it symbolic; other symbolic dims are errors.
  int64_t batch = 1;
};

// Parses a serialized ModelProto. Errors (InvalidArgument/DataLoss) name `source` and the node,
// tensor or field at fault: not ONNX, truncated, external data, not exactly one input/output,
// non-float input, symbolic spatial dims, a cycle, an unknown data type.
Result<Graph> LoadOnnxGraph(const std::string& bytes, const std::string& source,
                            const LoadOptions& options = {});
Result<Graph> LoadOnnxModel(const onnx::ModelProto& model, const std::string& source,
                            const LoadOptions& options = {});
Result<Graph> LoadOnnxFile(const std::string& path, const LoadOptions& options = {});

}  // namespace vqi::infer::onednn
