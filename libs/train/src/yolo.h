// The YOLOv8 detection network as libtorch modules, built from vqi::model::Plan() so that
// parameter and buffer names are exactly Ultralytics' state_dict names ("model.0.conv.weight",
// "model.22.cv2.0.2.bias", ...). Private to libs/train.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "vqi/base/safetensors.h"
#include "vqi/base/status.h"
#include "vqi/model/config.h"

namespace vqi::train {

// Anchor points (cell centers, in grid units) and their strides for all levels, in the
// order of the flattened head output: level, then row, then column.
struct Anchors {
  torch::Tensor points;   // [N, 2] (x, y)
  torch::Tensor strides;  // [N, 1]
};
Anchors MakeAnchors(const std::vector<torch::Tensor>& feats, const std::vector<int>& strides);

class YoloImpl : public torch::nn::Module {
 public:
  // REQUIRES: cfg.Validate().ok().
  explicit YoloImpl(const model::ModelConfig& cfg);

  // Raw head outputs per level: [B, 4*reg_max + nc, H/s, W/s].
  std::vector<torch::Tensor> forward(const torch::Tensor& x);

  // Inference output as YOLOv8's `output0`: [B, 4 + nc, N] with (cx, cy, w, h) in input
  // pixels and sigmoid class scores.
  torch::Tensor Decode(const std::vector<torch::Tensor>& feats);

  const model::ModelConfig& config() const { return cfg_; }
  int nc() const { return cfg_.nc(); }
  int reg_max() const { return cfg_.reg_max; }

 private:
  model::ModelConfig cfg_;
  std::vector<model::Layer> plan_;
  torch::nn::ModuleList layers_{nullptr};
  std::vector<std::shared_ptr<torch::nn::Module>> blocks_;  // layers_ in Plan order
};
TORCH_MODULE(Yolo);

// While alive, the Conv-BN-SiLU blocks of models in training mode on this thread compute
// their convolutions in bfloat16 (float32 result, float32 backward); see Bf16ForwardConv.
class Bf16Forward {
 public:
  explicit Bf16Forward(bool on);
  ~Bf16Forward();
  Bf16Forward(const Bf16Forward&) = delete;
  Bf16Forward& operator=(const Bf16Forward&) = delete;

 private:
  bool prev_;
};

// Whether Conv-BN-SiLU blocks use the fused BatchNorm + SiLU (bn_silu.h) on channels-last
// activations (default on; VQI_TRAIN_FUSED_BN=0 turns it off). For tests and measurements.
void SetFusedBnSilu(bool on);

// Float32 copies of all parameters and buffers (BatchNorm running statistics included,
// `num_batches_tracked` excluded) under their state_dict names.
std::map<std::string, Tensor> ExportWeights(torch::nn::Module& m);
// Copies `weights` into the module's parameters and buffers. InvalidArgument naming the
// tensor when one is missing or has the wrong shape.
Status ImportWeights(torch::nn::Module& m, const std::map<std::string, Tensor>& weights);

// Decodes DFL distributions [.., 4*reg_max] to expected distances [.., 4].
torch::Tensor DflExpect(const torch::Tensor& dist, int reg_max);
// ltrb distances around anchor points to xyxy boxes (same units as inputs).
torch::Tensor Dist2Bbox(const torch::Tensor& ltrb, const torch::Tensor& anchor_points);

}  // namespace vqi::train
