#include "loss.h"

#include <gtest/gtest.h>

#include <cmath>

#include "yolo.h"

namespace vqi::train {
namespace {

torch::Tensor T(std::vector<float> v, std::vector<int64_t> shape) {
  return torch::tensor(v).view(shape).clone();
}

TEST(BboxIouTest, PlainIouAndCiouByHand) {
  auto a = T({0, 0, 2, 2}, {1, 4}), b = T({1, 1, 3, 3}, {1, 4});
  EXPECT_NEAR(BboxIou(a, b, false).item<float>(), 1.0 / 7, 1e-5);
  // Centers (1,1) and (2,2): rho^2 = 2; enclosing box 3x3: c^2 = 18; same aspect: v = 0.
  EXPECT_NEAR(BboxIou(a, b, true).item<float>(), 1.0 / 7 - 2.0 / 18, 1e-5);
  // Different aspect ratios: the v * alpha penalty.
  auto c = T({0, 0, 4, 2}, {1, 4}), d = T({0, 0, 2, 4}, {1, 4});
  double iou = 4.0 / 12, rho2 = 2.0;  // ((2-4)^2 + (4-2)^2) / 4
  double v = 4 / (M_PI * M_PI) * std::pow(std::atan(0.5) - std::atan(2.0), 2);
  double alpha = v / (v - iou + 1);
  EXPECT_NEAR(BboxIou(c, d, true).item<float>(), iou - (rho2 / 32 + v * alpha), 1e-5);
  // Disjoint boxes: IoU 0.
  EXPECT_NEAR(BboxIou(a, T({5, 5, 6, 6}, {1, 4}), false).item<float>(), 0, 1e-7);
}

TEST(DflTest, HandComputedCrossEntropies) {
  auto pred = torch::zeros({1, 16});
  pred[0][2] = std::log(3.0f);  // p2 = 3/18, others 1/18
  auto t = T({2.3f}, {1});
  double want = 0.7 * std::log(6.0) + 0.3 * std::log(18.0);
  EXPECT_NEAR(DflTerm(pred, t).item<float>(), want, 1e-5);
  // Integer target: all weight on the left bin.
  EXPECT_NEAR(DflTerm(pred, T({2.0f}, {1})).item<float>(), std::log(6.0), 1e-5);
}

struct Case {
  torch::Tensor scores, boxes, points, labels, gt, mask;
};

// One gt [0,0,4,4]; anchors (1,1), (3,3), (5,5), (1,3); anchor 2 lies outside.
Case OneBox() {
  Case c;
  c.points = T({1, 1, 3, 3, 5, 5, 1, 3}, {4, 2});
  c.scores = T({0.9f, 0.4f, 0.9f, 0.0f}, {1, 4, 1});
  c.boxes = T({0, 0, 4, 4, 1, 1, 3, 3, 0, 0, 4, 4, 0, 0, 4, 4}, {1, 4, 4});
  c.labels = torch::zeros({1, 1, 1}, torch::kLong);
  c.gt = T({0, 0, 4, 4}, {1, 1, 4});
  c.mask = torch::ones({1, 1, 1});
  return c;
}

TEST(AssignerTest, AnchorsInsideGtWithNormalizedAlignment) {
  auto c = OneBox();
  auto a = TaskAlignedAssign(c.scores, c.boxes, c.points, c.labels, c.gt, c.mask, 1);
  std::vector<bool> fg;
  for (int i = 0; i < 4; ++i) fg.push_back(a.fg_mask[0][i].item<bool>());
  EXPECT_EQ(fg, (std::vector<bool>{true, true, false, true}));
  // align = s^0.5 * iou^6; anchor 0: sqrt(0.9) * 1, anchor 1: sqrt(0.4) * 0.25^6, anchor 3: 0.
  // Normalized by max align, times the best IoU (1).
  double a0 = std::sqrt(0.9), a1 = std::sqrt(0.4) * std::pow(0.25, 6);
  EXPECT_NEAR(a.scores[0][0][0].item<float>(), 1.0, 1e-4);
  EXPECT_NEAR(a.scores[0][1][0].item<float>(), a1 / a0, 1e-6);
  EXPECT_NEAR(a.scores[0][2][0].item<float>(), 0.0, 1e-7);
  EXPECT_NEAR(a.scores[0][3][0].item<float>(), 0.0, 1e-7);
  EXPECT_TRUE(torch::allclose(a.bboxes[0][1], T({0, 0, 4, 4}, {4})));
}

TEST(AssignerTest, TopKLimitsPositives) {
  auto c = OneBox();
  AssignerOptions o;
  o.topk = 1;
  auto a = TaskAlignedAssign(c.scores, c.boxes, c.points, c.labels, c.gt, c.mask, 1, o);
  EXPECT_EQ(a.fg_mask.sum().item<int64_t>(), 1);
  EXPECT_TRUE(a.fg_mask[0][0].item<bool>());
}

TEST(AssignerTest, PaddingGtAssignsNothing) {
  auto c = OneBox();
  c.mask.zero_();
  auto a = TaskAlignedAssign(c.scores, c.boxes, c.points, c.labels, c.gt, c.mask, 1);
  EXPECT_EQ(a.fg_mask.sum().item<int64_t>(), 0);
  EXPECT_EQ(a.scores.sum().item<float>(), 0.0f);
}

TEST(AssignerTest, SharedAnchorGoesToHigherIouGt) {
  // Two gts of classes 0 and 1 both contain anchor (2,2); its box matches gt 1 better.
  auto points = T({2, 2}, {1, 2});
  auto scores = T({0.5f, 0.5f}, {1, 1, 2});
  auto boxes = T({1, 1, 5, 5}, {1, 1, 4});
  auto gt = T({0, 0, 4, 4, 1, 1, 5, 5}, {1, 2, 4});
  auto labels = T({0, 1}, {1, 2, 1}).to(torch::kLong);
  auto mask = torch::ones({1, 2, 1});
  auto a = TaskAlignedAssign(scores, boxes, points, labels, gt, mask, 2);
  EXPECT_TRUE(a.fg_mask[0][0].item<bool>());
  EXPECT_EQ(a.labels[0][0].item<int64_t>(), 1);
  EXPECT_NEAR(a.scores[0][0][1].item<float>(), 1.0, 1e-4);
  EXPECT_EQ(a.scores[0][0][0].item<float>(), 0.0f);
}

model::ModelConfig Tiny() {
  model::ModelConfig c;
  c.input_w = 64;
  c.input_h = 64;
  return c;
}

TEST(DetectionLossTest, NoTargetsIsPureBceOnAllAnchors) {
  auto cfg = Tiny();
  std::vector<torch::Tensor> feats = {torch::zeros({2, 65, 8, 8}), torch::zeros({2, 65, 4, 4}),
                                      torch::zeros({2, 65, 2, 2})};
  DetectionLoss loss(cfg);
  auto out = loss(feats, torch::zeros({0, 6}));
  // Every logit 0 -> BCE log 2 each, 84 anchors x 2 images, divided by max(sum targets, 1).
  EXPECT_NEAR(out.cls, 0.5 * 2 * 84 * std::log(2.0), 1e-3);
  EXPECT_EQ(out.box, 0.0);
  EXPECT_EQ(out.dfl, 0.0);
  EXPECT_NEAR(out.total.item<float>(), 2 * out.cls, 1e-2);
}

TEST(DetectionLossTest, PerfectBoxHasZeroIouLossAndKnownDfl) {
  auto cfg = Tiny();
  // Level 0 (stride 8) only matters: a gt [0,0,16,16] contains anchors (0.5,0.5), (1.5,0.5),
  // (0.5,1.5), (1.5,1.5) cells. Predict exactly the gt for them with peaked DFL bins.
  std::vector<torch::Tensor> feats = {torch::zeros({1, 65, 8, 8}), torch::zeros({1, 65, 4, 4}),
                                      torch::zeros({1, 65, 2, 2})};
  feats[0].slice(1, 64, 65).fill_(-20.0f);  // confident background elsewhere
  feats[1].slice(1, 64, 65).fill_(-20.0f);
  feats[2].slice(1, 64, 65).fill_(-20.0f);
  // For cell (0,0) center 0.5: l=t=0.5, r=b=1.5 -> not integer; use gt [0,0,16,16] and only
  // check the box term (CIoU = 1 exactly when the expected distances match).
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 2; ++x) {
      float d[4] = {x + 0.5f, y + 0.5f, 1.5f - x, 1.5f - y};
      for (int s = 0; s < 4; ++s) {
        int lo = static_cast<int>(d[s]);
        // Two bins with equal logits 30 -> expectation lo + 0.5.
        feats[0][0][s * 16 + lo][y][x] = 30.0f;
        feats[0][0][s * 16 + lo + 1][y][x] = 30.0f;
      }
      feats[0][0][64][y][x] = 20.0f;
    }
  DetectionLoss loss(cfg);
  auto out = loss(feats, T({0, 0, 0, 0, 16, 16}, {1, 6}));
  EXPECT_NEAR(out.box, 0.0, 1e-4);
  // DFL with p = 0.5 on both neighbouring bins and target exactly between them: CE = log 2.
  EXPECT_NEAR(out.dfl, 1.5 * std::log(2.0), 1e-3);
  EXPECT_LT(out.cls, 1e-3);
}

}  // namespace
}  // namespace vqi::train
