// The weights a YOLOv8 detection checkpoint holds for a ModelConfig, under Ultralytics
// state_dict names (see vqi/model/checkpoint.h), derived from model::Plan() so the exporter,
// the random-weight generator and libs/train agree on one list.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/model/checkpoint.h"
#include "vqi/model/config.h"

namespace vqi::onnx {

inline constexpr float kBatchNormEps = 1e-3f;  // Ultralytics Conv's BatchNorm2d eps

struct WeightSpec {
  std::string name;  // e.g. "model.2.m.0.cv1.conv.weight"
  std::vector<int64_t> shape;
};

// Every float tensor the network reads, in layer order. BatchNorm's num_batches_tracked is not
// listed (not needed to run the model). InvalidArgument for an invalid config.
Result<std::vector<WeightSpec>> ExpectedWeights(const model::ModelConfig& cfg);

// InvalidArgument naming the first missing tensor or wrong shape/dtype. `where` names the file.
Status CheckWeights(const model::Checkpoint& ckpt, const std::string& where);

// A checkpoint with seeded random weights (He-scaled convs, BatchNorm statistics near identity,
// the DFL projection 0..reg_max-1) for tests and benchmarks; deterministic for a seed.
Result<model::Checkpoint> RandomCheckpoint(const model::ModelConfig& cfg, uint32_t seed);

}  // namespace vqi::onnx
