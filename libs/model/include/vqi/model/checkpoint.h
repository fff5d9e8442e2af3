// The checkpoint file: one safetensors file (readable without libtorch, and by Python's
// `safetensors`) holding
//   tensors:   the model's weights under Ultralytics state_dict names (float32), including
//              BatchNorm running statistics; EMA weights when training used EMA;
//   metadata:  "vqi.format"       "vqi-checkpoint/1"
//              "vqi.model"        ModelConfig JSON (scale, class names, input size, ...)
//              "vqi.train"        training config JSON (epochs, lr, seed, augmentation, ...)
//              "vqi.split_digest" the dataset split snapshot digest it was trained on
//              "vqi.metrics"      final/best validation metrics JSON
//              "vqi.run_id"       the training run id
//              "vqi.epoch"        epoch the weights are from
// Optimizer state for --resume is kept beside it by libs/train (not needed to run the model).
// See docs/design/training.md.
#pragma once

#include <string>

#include "vqi/base/json.h"
#include "vqi/base/safetensors.h"
#include "vqi/model/config.h"

namespace vqi::model {

inline constexpr const char* kCheckpointFormat = "vqi-checkpoint/1";

struct Checkpoint {
  ModelConfig model;
  Json train = Json::object();
  std::string split_digest;
  Json metrics = Json::object();
  std::string run_id;
  int epoch = 0;
  std::map<std::string, Tensor> weights;
};

Status WriteCheckpoint(const std::string& path, const Checkpoint& ckpt);  // atomic
// Errors name the file: NotFound, DataLoss (truncated/corrupt), InvalidArgument (not a
// vqi checkpoint, bad config; a directory), ResourceExhausted (a size over a documented limit:
// file, header, model config). Nothing is allocated from the metadata before it is validated.
Result<Checkpoint> ReadCheckpoint(const std::string& path);
// The checkpoint held by parsed safetensors `f` (as ReadCheckpoint after reading the file).
Result<Checkpoint> CheckpointFromTensorFile(TensorFile f, const std::string& where);

}  // namespace vqi::model
