// Lowers an optimized graph (passes.h) to oneDNN primitives, plans layouts and one memory
// arena, and runs it. Everything is decided at Compile(): Run() only binds the caller's input
// and output pointers and executes the primitives in order.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "graph.h"

namespace vqi::infer::onednn {

// The knobs of vqi::infer::OnednnOptions (vqi/infer/onednn.h) that compilation reads.
struct CompileOptions {
  int threads = 1;
  int64_t serial_conv_macs = -1;  // -1: SerialConvMacs() decides (OnednnOptions)
  int64_t serial_bytes = int64_t{64} << 10;
  int block = -1;        // -1: ChooseBlock decides; 16, 8, 0 (nhwc) force
  bool profile = false;  // time every step (OnednnOptions::profile)
  bool tune = false;     // choose each convolution's implementation by measurement
  // fp32 3x3 stride-1 convolutions on nChw16c as Winograd where the rule says it is faster
  // (OnednnOptions::winograd; docs/design/onednn.md "Winograd").
  bool winograd = true;
  // Float convolutions (and the pooling, resampling, concat and split around them) in bf16
  // with f32 accumulation; see docs/design/onednn.md "bf16". REQUIRES: OnednnHasBf16().
  bool bf16 = false;
  // Graph tensors to keep readable after Run (see CompiledModel::Kept).
  std::vector<int> keep{};
};

// The fp32 convolution size below which a step runs on one thread, for
// CompileOptions::serial_conv_macs = -1: 0 (every convolution parallel) when libgomp's idle
// threads spin between parallel regions (its default wait policy), kSerialConvMacsPassive
// when they sleep (OMP_WAIT_POLICY=passive, or GOMP_SPINCOUNT below 1000): a parallel region
// then costs a futex wake-up of the other thread. Measured on t@320x224 (docs/design/onednn.md,
// "Session 8: small"). libgomp reads both variables once, at start-up; so does this.
constexpr int64_t kSerialConvMacsPassive = int64_t{8} << 20;
bool OmpThreadsSpin();
int64_t SerialConvMacs(int64_t option);

class CompiledModel {
 public:
  virtual ~CompiledModel() = default;
  virtual const Shape& InputShape() const = 0;
  virtual const Shape& OutputShape() const = 0;
  // REQUIRES: input holds NumElements(InputShape()) floats, output NumElements(OutputShape()).
  // Not thread-safe.
  virtual Status Run(const float* input, float* output) = 0;
  // Threads, ISA, implementation names per primitive kind, arena size, step count.
  virtual std::string Details() const = 0;
  virtual size_t ArenaBytes() const = 0;
  // After Run: the value of a tensor listed in CompileOptions::keep, plain row-major f32, valid
  // until the next Run; nullptr for the graph input/output, constants and tensors not computed.
  virtual const float* Kept(int tensor) const = 0;
};

// `g` must have gone through OptimizeGraph. Errors name the node (runtime integer tensors,
// primitives oneDNN cannot create).
Result<std::unique_ptr<CompiledModel>> Compile(Graph g, const CompileOptions& options);

}  // namespace vqi::infer::onednn
