// Appends nodes and initializers to an onnx::GraphProto with unique, readable names.
// Private to libs/onnx.
#pragma once

#include <onnx/onnx_pb.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace vqi::onnx {

// One node attribute: ints, a single int, a float or a tensor-free list.
struct Attr {
  std::string name;
  enum Kind { kInt, kInts, kFloat } kind = kInt;
  int64_t i = 0;
  std::vector<int64_t> ints;
  float f = 0;
  static Attr Int(std::string n, int64_t v) { return {std::move(n), kInt, v, {}, 0}; }
  static Attr Ints(std::string n, std::vector<int64_t> v) { return {std::move(n), kInts, 0, v, 0}; }
  static Attr Float(std::string n, float v) { return {std::move(n), kFloat, 0, {}, v}; }
};

class GraphBuilder {
 public:
  explicit GraphBuilder(::onnx::GraphProto* graph) : g_(graph) {}

  // Adds a float32 initializer; returns its name.
  std::string Constant(const std::string& name, const std::vector<int64_t>& shape,
                       const std::vector<float>& values);
  // Adds an int64 initializer (shapes, slice bounds); returns its name.
  std::string Int64s(const std::string& name, const std::vector<int64_t>& values);

  // Adds node `op` named `name` (e.g. "/model.0/conv/Conv") with one output, named `output`
  // or "<name>_output_0" when empty; returns the output name.
  std::string Node(const std::string& op, const std::string& name,
                   const std::vector<std::string>& inputs, std::initializer_list<Attr> attrs = {},
                   const std::string& output = "");

  ::onnx::GraphProto* graph() { return g_; }

 private:
  ::onnx::GraphProto* g_;
};

}  // namespace vqi::onnx
