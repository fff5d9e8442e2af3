// Test/bench support: builds small ONNX models with the libonnx protobuf API, so op tests and
// the benchmark do not depend on the exporter. Not part of the backend.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "vqi/base/status.h"

namespace onnx {
class ModelProto;
class NodeProto;
}  // namespace onnx

namespace vqi::infer::onednn::testing {

class OnnxBuilder {
 public:
  explicit OnnxBuilder(int64_t opset = 13, uint32_t seed = 1);
  ~OnnxBuilder();
  OnnxBuilder(const OnnxBuilder&) = delete;
  OnnxBuilder& operator=(const OnnxBuilder&) = delete;

  std::string Input(const std::string& name, const std::vector<int64_t>& shape);
  void Output(const std::string& name, const std::vector<int64_t>& shape = {});
  // Float initializer with the given data / uniform random data in [-scale, scale].
  std::string Init(const std::vector<int64_t>& shape, const std::vector<float>& data);
  std::string Rand(const std::vector<int64_t>& shape, float scale);
  std::string Ints(const std::vector<int64_t>& values);  // 1-D int64 initializer
  // Adds a node; returns its output names (`outputs` of them).
  std::vector<std::string> Op(const std::string& op, const std::vector<std::string>& in,
                              int outputs = 1);
  std::string Op1(const std::string& op, const std::vector<std::string>& in) {
    return Op(op, in)[0];
  }
  // Attributes of the last node.
  OnnxBuilder& AttrInt(const std::string& k, int64_t v);
  OnnxBuilder& AttrFloat(const std::string& k, float v);
  OnnxBuilder& AttrStr(const std::string& k, const std::string& v);
  OnnxBuilder& AttrInts(const std::vector<int64_t>& v, const std::string& k);
  void Metadata(const std::string& k, const std::string& v);

  onnx::ModelProto& model() { return *model_; }
  std::string Serialize() const;
  Status Save(const std::string& path) const;
  std::mt19937& rng() { return rng_; }

 private:
  std::string Fresh(const std::string& prefix);
  onnx::ModelProto* model_;
  onnx::NodeProto* last_ = nullptr;
  std::mt19937 rng_;
  int counter_ = 0;
};

// A one-input model: `body` adds the nodes after input "images" [1, c, h, w] and returns the
// output's name (builder opset 13, seed 11).
std::string Model(int64_t c, int64_t h, int64_t w,
                  const std::function<std::string(OnnxBuilder&, const std::string&)>& body);
// A k×k convolution ("same" padding) with random weights in [-0.5, 0.5] and bias in [-0.3, 0.3].
std::string Conv(OnnxBuilder& b, const std::string& x, int64_t cin, int64_t cout, int64_t k,
                 int64_t stride = 1, int64_t group = 1);
// y * sigmoid(y), as exporters write SiLU.
std::string Silu(OnnxBuilder& b, const std::string& y);

// conv(5→16)+SiLU → maxpool → maxpool → resize → concat(with the conv and first pool) → split →
// slice → two convs → Add, on a [1, 5, H, W] input `x` (H, W ≥ 8): the value-preserving ops a
// low-precision graph should keep in its type. Returns the output's name.
std::string ValuePreservingChain(OnnxBuilder& b, const std::string& x);

// Random floats in [-1, 1) from a seeded generator.
std::vector<float> RandomVector(size_t n, uint32_t seed);

}  // namespace vqi::infer::onednn::testing
