#include "loss.h"

#include <chrono>
#include <cmath>

#include "yolo.h"

namespace vqi::train {
namespace {
using Clock = std::chrono::steady_clock;
double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}
}  // namespace

using torch::indexing::None;
using torch::indexing::Slice;

torch::Tensor BboxIou(const torch::Tensor& b1, const torch::Tensor& b2, bool ciou) {
  const double eps = 1e-7;
  auto p1 = b1.chunk(4, -1), p2 = b2.chunk(4, -1);
  auto &b1x1 = p1[0], &b1y1 = p1[1], &b1x2 = p1[2], &b1y2 = p1[3];
  auto &b2x1 = p2[0], &b2y1 = p2[1], &b2x2 = p2[2], &b2y2 = p2[3];
  auto w1 = b1x2 - b1x1, h1 = b1y2 - b1y1 + eps;
  auto w2 = b2x2 - b2x1, h2 = b2y2 - b2y1 + eps;
  auto inter = (torch::minimum(b1x2, b2x2) - torch::maximum(b1x1, b2x1)).clamp_min(0) *
               (torch::minimum(b1y2, b2y2) - torch::maximum(b1y1, b2y1)).clamp_min(0);
  auto uni = w1 * h1 + w2 * h2 - inter + eps;
  auto iou = inter / uni;
  if (!ciou) return iou;
  auto cw = torch::maximum(b1x2, b2x2) - torch::minimum(b1x1, b2x1);
  auto ch = torch::maximum(b1y2, b2y2) - torch::minimum(b1y1, b2y1);
  auto c2 = cw.pow(2) + ch.pow(2) + eps;
  auto rho2 = ((b2x1 + b2x2 - b1x1 - b1x2).pow(2) + (b2y1 + b2y2 - b1y1 - b1y2).pow(2)) / 4;
  auto v = (4 / (M_PI * M_PI)) * (torch::atan(w2 / h2) - torch::atan(w1 / h1)).pow(2);
  torch::Tensor alpha;
  {
    torch::NoGradGuard ng;
    alpha = v / (v - iou + (1 + eps));
  }
  return iou - (rho2 / c2 + v * alpha);
}

Assignment TaskAlignedAssign(const torch::Tensor& pd_scores, const torch::Tensor& pd_bboxes,
                             const torch::Tensor& anc_points, const torch::Tensor& gt_labels,
                             const torch::Tensor& gt_bboxes, const torch::Tensor& mask_gt, int nc,
                             const AssignerOptions& o) {
  torch::NoGradGuard ng;
  const int64_t bs = pd_scores.size(0), na = pd_scores.size(1), nmax = gt_bboxes.size(1);
  if (nmax == 0) {
    return {torch::full({bs, na}, nc, torch::kLong), torch::zeros_like(pd_bboxes),
            torch::zeros_like(pd_scores), torch::zeros({bs, na}, torch::kBool)};
  }
  // Anchor centers strictly inside each gt box: [B, M, N].
  auto lt = anc_points.view({1, 1, na, 2}) - gt_bboxes.slice(2, 0, 2).unsqueeze(2);
  auto rb = gt_bboxes.slice(2, 2, 4).unsqueeze(2) - anc_points.view({1, 1, na, 2});
  auto in_gts = torch::cat({lt, rb}, -1).amin(-1).gt(o.eps);
  auto mask = in_gts.logical_and(mask_gt.to(torch::kBool));  // [B, M, N]

  // Alignment metric s^alpha * IoU^beta over candidate pairs.
  auto labels = gt_labels.squeeze(-1).to(torch::kLong).clamp(0, nc - 1);               // [B, M]
  auto scores_t = pd_scores.transpose(1, 2);                                           // [B, nc, N]
  auto bbox_scores = scores_t.gather(1, labels.unsqueeze(-1).expand({bs, nmax, na}));  // [B, M, N]
  auto ious = BboxIou(gt_bboxes.unsqueeze(2), pd_bboxes.unsqueeze(1), true)
                  .squeeze(-1)
                  .clamp_min(0);  // [B, M, N]
  auto maskf = mask.to(torch::kFloat);
  auto overlaps = ious * maskf;
  bbox_scores = bbox_scores * maskf;
  auto align = bbox_scores.pow(o.alpha) * overlaps.pow(o.beta);

  // Top-k anchors per gt by metric (padding gts select nothing).
  int k = static_cast<int>(std::min<int64_t>(o.topk, na));
  auto topk_idx = std::get<1>(align.topk(k, -1, true, true));  // [B, M, k]
  auto gt_ok = mask_gt.to(torch::kBool).expand({bs, nmax, k});
  topk_idx = topk_idx.masked_fill(gt_ok.logical_not(), 0);
  auto count = torch::zeros({bs, nmax, na}, torch::kFloat);
  count.scatter_add_(-1, topk_idx, torch::ones({bs, nmax, k}, torch::kFloat));
  count.masked_fill_(count.gt(1), 0);
  auto mask_pos = count * maskf;  // [B, M, N]

  // An anchor assigned to several gts keeps the one it overlaps most.
  auto fg = mask_pos.sum(-2);  // [B, N]
  if (fg.gt(1).any().item<bool>()) {
    auto multi = fg.unsqueeze(1).gt(1).expand({bs, nmax, na});
    auto best = overlaps.argmax(1);  // [B, N]
    auto is_max = torch::one_hot(best, nmax).permute({0, 2, 1}).to(overlaps.dtype());
    mask_pos = torch::where(multi, is_max, mask_pos);
    fg = mask_pos.sum(-2);
  }
  auto gt_idx = mask_pos.argmax(-2);  // [B, N]

  auto batch_ind = torch::arange(bs, torch::kLong).unsqueeze(-1) * nmax;
  auto flat_idx = gt_idx + batch_ind;
  Assignment a;
  a.labels = labels.flatten().index({flat_idx});            // [B, N]
  a.bboxes = gt_bboxes.reshape({-1, 4}).index({flat_idx});  // [B, N, 4]
  a.fg_mask = fg.gt(0);
  auto onehot = torch::one_hot(a.labels, nc).to(torch::kFloat);  // [B, N, nc]
  onehot = onehot * a.fg_mask.unsqueeze(-1).to(torch::kFloat);

  // Soft targets: metric normalized so each gt's best anchor gets that gt's best IoU.
  align = align * mask_pos;
  auto pos_align = std::get<0>(align.max(-1, true));                // [B, M, 1]
  auto pos_ovl = std::get<0>((overlaps * mask_pos).max(-1, true));  // [B, M, 1]
  auto norm = std::get<0>((align * pos_ovl / (pos_align + o.eps)).max(-2)).unsqueeze(-1);
  a.scores = onehot * norm;
  return a;
}

torch::Tensor DflTerm(const torch::Tensor& pred, const torch::Tensor& target) {
  auto tl = target.to(torch::kLong);
  auto tr = tl + 1;
  auto wl = tr.to(target.dtype()) - target;
  auto wr = 1 - wl;
  auto logp = torch::log_softmax(pred, -1);
  auto ce_l = -logp.gather(-1, tl.unsqueeze(-1)).squeeze(-1);
  auto ce_r = -logp.gather(-1, tr.unsqueeze(-1)).squeeze(-1);
  return ce_l * wl + ce_r * wr;
}

DetectionLoss::DetectionLoss(const model::ModelConfig& cfg, LossGains gains, AssignerOptions assign)
    : cfg_(cfg), gains_(gains), assign_(assign) {}

LossOutput DetectionLoss::operator()(const std::vector<torch::Tensor>& feats,
                                     const torch::Tensor& targets) {
  const auto t0 = Clock::now();
  const int rm = cfg_.reg_max, nc = cfg_.nc();
  const int64_t bs = feats[0].size(0);
  std::vector<torch::Tensor> flat;
  for (const auto& f : feats) flat.push_back(f.view({bs, 4 * rm + nc, -1}));
  auto cat = torch::cat(flat, 2).permute({0, 2, 1}).contiguous();  // [B, N, no]
  auto pred_distri = cat.slice(2, 0, 4 * rm);
  auto pred_scores = cat.slice(2, 4 * rm);
  auto anchors = MakeAnchors(feats, cfg_.strides);
  const int64_t na = anchors.points.size(0);

  // Targets padded per image: [B, M, 5] (class, x1, y1, x2, y2).
  auto tcpu = targets.to(torch::kFloat).contiguous();
  std::vector<int64_t> counts(static_cast<size_t>(bs), 0);
  auto acc = tcpu.accessor<float, 2>();
  for (int64_t i = 0; i < tcpu.size(0); ++i) counts[static_cast<size_t>(acc[i][0])]++;
  int64_t m = counts.empty() ? 0 : *std::max_element(counts.begin(), counts.end());
  auto gt = torch::zeros({bs, m, 5});
  auto mask_gt = torch::zeros({bs, m, 1});
  {
    std::vector<int64_t> fill(static_cast<size_t>(bs), 0);
    auto g = gt.accessor<float, 3>();
    auto mg = mask_gt.accessor<float, 3>();
    for (int64_t i = 0; i < tcpu.size(0); ++i) {
      auto b = static_cast<int64_t>(acc[i][0]);
      int64_t j = fill[static_cast<size_t>(b)]++;
      for (int c = 0; c < 5; ++c) g[b][j][c] = acc[i][c + 1];
      mg[b][j][0] = 1.0f;
    }
  }
  auto gt_labels = gt.slice(2, 0, 1).to(torch::kLong);
  auto gt_bboxes = gt.slice(2, 1, 5);

  const auto t1 = Clock::now();
  auto pred_bboxes = Dist2Bbox(DflExpect(pred_distri, rm), anchors.points);  // grid units
  const auto t2 = Clock::now();
  auto as = TaskAlignedAssign(
      pred_scores.detach().sigmoid(), pred_bboxes.detach() * anchors.strides,
      anchors.points * anchors.strides, gt_labels, gt_bboxes, mask_gt, nc, assign_);
  const auto t3 = Clock::now();
  auto tss = std::max(as.scores.sum().item<double>(), 1.0);

  auto loss_cls = torch::binary_cross_entropy_with_logits(pred_scores, as.scores, {}, {},
                                                          torch::Reduction::None)
                      .sum() /
                  tss;
  auto loss_box = torch::zeros({}), loss_dfl = torch::zeros({});
  if (as.fg_mask.any().item<bool>()) {
    auto tb = as.bboxes / anchors.strides;  // grid units
    auto fg = as.fg_mask;
    auto weight = as.scores.sum(-1).index({fg}).unsqueeze(-1);  // [F, 1]
    auto iou = BboxIou(pred_bboxes.index({fg}), tb.index({fg}), true);
    loss_box = ((1.0 - iou) * weight).sum() / tss;
    auto pts = anchors.points.unsqueeze(0).expand({bs, na, 2});
    auto ltrb =
        torch::cat({pts - tb.slice(2, 0, 2), tb.slice(2, 2, 4) - pts}, -1).clamp(0, rm - 1 - 0.01);
    auto d = DflTerm(pred_distri.index({fg}).reshape({-1, rm}), ltrb.index({fg}).reshape({-1}))
                 .view({-1, 4})
                 .mean(-1, true);
    loss_dfl = (d * weight).sum() / tss;
  }
  LossOutput out;
  auto b = loss_box * gains_.box, c = loss_cls * gains_.cls, d = loss_dfl * gains_.dfl;
  out.total = (b + c + d) * static_cast<double>(bs);
  out.box = b.item<double>();
  out.cls = c.item<double>();
  out.dfl = d.item<double>();
  const auto t4 = Clock::now();
  out.targets_s = Seconds(t0, t1);
  out.assign_s = Seconds(t2, t3);
  out.terms_s = Seconds(t1, t2) + Seconds(t3, t4);
  return out;
}

}  // namespace vqi::train
