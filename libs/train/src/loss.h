// YOLOv8's detection loss: task-aligned assignment (TAL), BCE class loss, CIoU + DFL box
// loss. Mirrors Ultralytics v8DetectionLoss / TaskAlignedAssigner / BboxLoss. Private to
// libs/train.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "vqi/model/config.h"

namespace vqi::train {

// IoU of xyxy boxes broadcast over leading dims: [..., 4] x [..., 4] -> [..., 1]; CIoU when
// `ciou` (IoU minus center-distance and aspect-ratio penalties, alpha without gradient).
torch::Tensor BboxIou(const torch::Tensor& b1, const torch::Tensor& b2, bool ciou);

struct AssignerOptions {
  int topk = 10;
  double alpha = 0.5;
  double beta = 6.0;
  double eps = 1e-9;
};

struct Assignment {
  torch::Tensor labels;   // [B, N] long
  torch::Tensor bboxes;   // [B, N, 4] xyxy, same units as gt_bboxes
  torch::Tensor scores;   // [B, N, nc] soft targets (normalized alignment metric)
  torch::Tensor fg_mask;  // [B, N] bool
};

// pd_scores [B, N, nc] (probabilities), pd_bboxes [B, N, 4] xyxy, anc_points [N, 2],
// gt_labels [B, M, 1] long, gt_bboxes [B, M, 4] xyxy, mask_gt [B, M, 1] (1 = real box);
// boxes and points in the same units (pixels).
Assignment TaskAlignedAssign(const torch::Tensor& pd_scores, const torch::Tensor& pd_bboxes,
                             const torch::Tensor& anc_points, const torch::Tensor& gt_labels,
                             const torch::Tensor& gt_bboxes, const torch::Tensor& mask_gt, int nc,
                             const AssignerOptions& options = {});

// Distribution focal loss: pred [n, reg_max] logits, target [n] continuous in
// [0, reg_max - 1); returns [n] = CE(left) * wl + CE(right) * wr.
torch::Tensor DflTerm(const torch::Tensor& pred, const torch::Tensor& target);

struct LossGains {
  double box = 7.5;
  double cls = 0.5;
  double dfl = 1.5;
};

struct LossOutput {
  torch::Tensor total;  // scalar to backpropagate: (gained box + cls + dfl) * batch size
  double box = 0, cls = 0, dfl = 0;  // gained parts (not multiplied by batch size)
  // Wall seconds of the parts of this call (the epoch profile, docs/design/training.md):
  // padding the targets, the assigner, the rest (prediction decode and the three terms).
  double targets_s = 0, assign_s = 0, terms_s = 0;
};

class DetectionLoss {
 public:
  DetectionLoss(const model::ModelConfig& cfg, LossGains gains = {}, AssignerOptions assign = {});
  // feats: raw head outputs per level; targets: [T, 6] (image index, class, x1, y1, x2, y2)
  // in input pixels.
  LossOutput operator()(const std::vector<torch::Tensor>& feats, const torch::Tensor& targets);

 private:
  model::ModelConfig cfg_;
  LossGains gains_;
  AssignerOptions assign_;
};

}  // namespace vqi::train
