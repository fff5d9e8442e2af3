// Post-training static quantization to standard QDQ ONNX (`vqi model quantize`).
//
// Three steps, so that the library stays free of any runtime:
//   1. PlanQuantization: which activations get an int8 scale. Every non-constant input 0 of
//      a Conv (except the float ones, see QuantizationPlan::float_convs), and every tensor linked
//      to one through value-preserving ops (MaxPool, nearest Resize, Concat, Split, Slice): such a
//      linked group shares one scale so a runtime can keep the whole chain in int8 without
//      requantizing (C2f concats, SPPF pools, neck upsampling).
//   2. ActivationRanges: the caller runs the float model on calibration inputs (libs/infer's
//      TensorObserver) and feeds every planned tensor's values here; it keeps max |x| and a
//      histogram of |x| per tensor (min/max or percentile calibration).
//   3. WriteQdqModel: symmetric int8 everywhere (zero points 0). Conv weights become INT8
//      initializers with per-output-channel scales behind DequantizeLinear(axis=0); each group
//      gets QuantizeLinear -> DequantizeLinear on every member, read by the Convs and linking
//      ops of the plan. Other consumers (residual Add, the detect head's decode) keep reading
//      the float tensor. Biases stay float. The result passes onnx::checker and shape inference
//      and runs in any runtime that runs QDQ (ONNX Runtime, vqi's oneDNN backend).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/base/status.h"

namespace onnx {
class ModelProto;
}  // namespace onnx

namespace vqi::onnx {

struct QuantizationPlan {
  // Groups of activation names sharing one scale; every member is observed in calibration.
  std::vector<std::vector<std::string>> groups;
  int convs = 0;  // Conv nodes whose weights are quantized
  // Conv nodes kept in float: those asked for; those reading the graph input (the 8-bit image
  // would lose half its resolution as symmetric int8: measured -2.9 vs -0.85 mAP50 points on
  // the real tags); decoders fed by a Softmax (the DFL expectation: fixed weights 0..15 over
  // probabilities, where int8 steps cost pixels).
  std::vector<std::string> float_convs;
  std::vector<std::string> Activations() const;  // all members of all groups
};

// InvalidArgument naming the file and node: opset < 13 (per-channel scales need 13), an
// already quantized model, a Conv whose weights are not a float32 initializer (e.g. the float16
// variant: quantize the float32 model). DataLoss when the bytes are not a model.
// `keep_float`: Conv node names to leave in float (InvalidArgument naming an unknown one).
Result<QuantizationPlan> PlanQuantization(const std::string& onnx_bytes, const std::string& where,
                                          const std::vector<std::string>& keep_float = {});
// The same on a model already parsed (e.g. libs/infer's OnnxModel::proto): no second parse.
Result<QuantizationPlan> PlanQuantization(const ::onnx::ModelProto& model, const std::string& where,
                                          const std::vector<std::string>& keep_float = {});

// Per-tensor statistics of |x| over all calibration inputs.
class ActivationRanges {
 public:
  static constexpr int kBins = 2048;
  void Observe(const std::string& name, const float* data, int64_t count);
  bool Has(const std::string& name) const { return stats_.count(name) != 0; }
  // max |x| seen (NaN/Inf are counted in `NonFinite` and otherwise ignored).
  double MaxAbs(const std::string& name) const;
  // The smallest value v with at least `percentile` % of |x| <= v (histogram resolution:
  // max/kBins).
  double Percentile(const std::string& name, double percentile) const;
  int64_t NonFinite(const std::string& name) const;

 private:
  struct Stats {
    double max = 0;    // exact max |x|
    double range = 0;  // histogram covers [0, range), doubled as values grow
    std::vector<int64_t> hist = std::vector<int64_t>(kBins, 0);
    int64_t count = 0, non_finite = 0;
  };
  std::map<std::string, Stats> stats_;
};

struct QuantizeOptions {
  std::string method = "percentile";  // minmax | percentile
  double percentile = 99.999;         // of |x| per tensor, for method=percentile
  Json provenance;  // recorded as metadata `vqi.quantization` (calibration set...)
};

// The group scale: the largest member range (max |x| or percentile) / 127.
// InvalidArgument when a planned tensor was never observed or the method is unknown.
Result<std::map<std::string, float>> GroupScales(const QuantizationPlan& plan,
                                                 const ActivationRanges& ranges,
                                                 const QuantizeOptions& options);

// The QDQ model. `scales` maps every activation of the plan to its (group) scale.
Result<std::string> WriteQdqModel(const std::string& onnx_bytes, const std::string& where,
                                  const QuantizationPlan& plan,
                                  const std::map<std::string, float>& scales,
                                  const QuantizeOptions& options);
Result<std::string> WriteQdqModel(const ::onnx::ModelProto& model, const std::string& where,
                                  const QuantizationPlan& plan,
                                  const std::map<std::string, float>& scales,
                                  const QuantizeOptions& options);

}  // namespace vqi::onnx
