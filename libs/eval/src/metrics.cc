#include "vqi/eval/metrics.h"

#include <algorithm>
#include <cmath>

namespace vqi::eval {

double IouThreshold(int t) {
  // numpy.linspace(.5, .95, 10): start + t * step, the last point exactly 0.95.
  return t == kNumIouThresholds - 1 ? 0.95 : 0.5 + t * ((0.95 - 0.5) / (kNumIouThresholds - 1));
}

double RecallPoint(int r) {
  // numpy.linspace(0, 1, 101).
  return r == kNumRecallPoints - 1 ? 1.0 : r * (1.0 / (kNumRecallPoints - 1));
}

double BoxIoU(const GtBox& g, const Detection& d) {
  const double iw = std::min<double>(g.x2, d.x2) - std::max<double>(g.x1, d.x1);
  const double ih = std::min<double>(g.y2, d.y2) - std::max<double>(g.y1, d.y1);
  if (iw <= 0 || ih <= 0) return 0.0;
  const double inter = iw * ih;
  const double area_g = (double(g.x2) - g.x1) * (double(g.y2) - g.y1);
  const double area_d = (double(d.x2) - d.x1) * (double(d.y2) - d.y1);
  const double uni = area_g + area_d - inter;
  return uni > 0 ? inter / uni : 0.0;
}

namespace {

Status CheckBox(float x1, float y1, float x2, float y2, int class_id, int num_classes,
                const std::string& what) {
  if (class_id < 0 || class_id >= num_classes)
    return InvalidArgument(what + ": class_id " + std::to_string(class_id) + " outside [0, " +
                           std::to_string(num_classes) + ")");
  for (float v : {x1, y1, x2, y2})
    if (!std::isfinite(v)) return InvalidArgument(what + ": non-finite coordinate");
  if (x2 < x1) return InvalidArgument(what + ": x2 < x1");
  if (y2 < y1) return InvalidArgument(what + ": y2 < y1");
  return Status::Ok();
}

}  // namespace

Evaluator::Evaluator(std::vector<std::string> class_names)
    : class_names_(std::move(class_names)),
      records_(class_names_.size()),
      num_gt_(class_names_.size(), 0) {}

Status Evaluator::AddImage(std::span<const GtBox> ground_truth,
                           std::span<const Detection> detections, const std::string& image) {
  const int nc = static_cast<int>(class_names_.size());
  for (size_t i = 0; i < ground_truth.size(); ++i) {
    const GtBox& g = ground_truth[i];
    VQI_RETURN_IF_ERROR(CheckBox(g.x1, g.y1, g.x2, g.y2, g.class_id, nc,
                                 image + ": ground-truth box " + std::to_string(i)));
  }
  for (size_t i = 0; i < detections.size(); ++i) {
    const Detection& d = detections[i];
    const std::string what = image + ": detection " + std::to_string(i);
    VQI_RETURN_IF_ERROR(CheckBox(d.x1, d.y1, d.x2, d.y2, d.class_id, nc, what));
    if (!std::isfinite(d.score)) return InvalidArgument(what + ": non-finite score");
  }

  std::vector<std::vector<int>> gt_of(nc), det_of(nc);
  for (size_t i = 0; i < ground_truth.size(); ++i)
    gt_of[ground_truth[i].class_id].push_back(static_cast<int>(i));
  for (size_t i = 0; i < detections.size(); ++i)
    det_of[detections[i].class_id].push_back(static_cast<int>(i));

  std::vector<double> iou;
  std::vector<char> taken;
  for (int c = 0; c < nc; ++c) {
    num_gt_[c] += static_cast<int>(gt_of[c].size());
    std::vector<int>& dets = det_of[c];
    if (dets.empty()) continue;
    std::stable_sort(dets.begin(), dets.end(),
                     [&](int a, int b) { return detections[a].score > detections[b].score; });
    const std::vector<int>& gts = gt_of[c];
    const size_t ng = gts.size();
    iou.assign(dets.size() * ng, 0.0);
    for (size_t i = 0; i < dets.size(); ++i)
      for (size_t j = 0; j < ng; ++j)
        iou[i * ng + j] = BoxIoU(ground_truth[gts[j]], detections[dets[i]]);
    std::vector<uint16_t> matched(dets.size(), 0);
    for (int t = 0; t < kNumIouThresholds; ++t) {
      taken.assign(ng, 0);
      for (size_t i = 0; i < dets.size(); ++i) {
        double best = std::min(IouThreshold(t), 1 - 1e-10);
        int m = -1;
        for (size_t j = 0; j < ng; ++j) {
          if (taken[j] || iou[i * ng + j] < best) continue;
          best = iou[i * ng + j];
          m = static_cast<int>(j);
        }
        if (m >= 0) {
          taken[m] = 1;
          matched[i] |= static_cast<uint16_t>(1u << t);
        }
      }
    }
    for (size_t i = 0; i < dets.size(); ++i)
      records_[c].push_back({detections[dets[i]].score, static_cast<uint32_t>(num_images_),
                             static_cast<uint32_t>(dets[i]), matched[i]});
  }
  ++num_images_;
  return Status::Ok();
}

namespace {

double F1(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0.0; }

}  // namespace

EvalReport Evaluator::Compute(const EvalOptions& options) const {
  EvalReport report;
  report.num_images = num_images_;
  report.conf_threshold = options.conf_threshold;
  const int nc = static_cast<int>(class_names_.size());
  std::vector<double> recall, precision;
  for (int c = 0; c < nc; ++c) {
    ClassMetrics m;
    m.class_id = c;
    m.name = class_names_[c];
    m.num_gt = num_gt_[c];
    m.num_detections = static_cast<int>(records_[c].size());
    m.has_gt = m.num_gt > 0;
    report.num_gt += m.num_gt;
    report.num_detections += m.num_detections;
    if (!m.has_gt) {
      report.classes.push_back(std::move(m));
      continue;
    }
    std::vector<Record> recs = records_[c];
    std::sort(recs.begin(), recs.end(), [](const Record& a, const Record& b) {
      if (a.score != b.score) return a.score > b.score;
      if (a.image != b.image) return a.image < b.image;
      return a.index < b.index;
    });
    const size_t n = recs.size();
    recall.resize(n);
    precision.resize(n);
    for (int t = 0; t < kNumIouThresholds; ++t) {
      int tp = 0;
      for (size_t i = 0; i < n; ++i) {
        tp += (recs[i].matched >> t) & 1;
        recall[i] = static_cast<double>(tp) / m.num_gt;
        precision[i] = static_cast<double>(tp) / static_cast<double>(i + 1);
      }
      if (t == 0) {
        // Precision / recall / F1 against confidence, from the raw (not interpolated) counts.
        size_t k = 0;  // detections with score >= conf
        for (int ci = kNumConfPoints - 1; ci >= 0; --ci) {
          const float conf = static_cast<float>(ci) / (kNumConfPoints - 1);
          while (k < n && recs[k].score >= conf) ++k;
          const double p = k ? precision[k - 1] : 0.0, r = k ? recall[k - 1] : 0.0;
          m.conf_precision[ci] = p;
          m.conf_recall[ci] = r;
          m.conf_f1[ci] = F1(p, r);
        }
        k = 0;
        while (k < n && recs[k].score >= options.conf_threshold) ++k;
        for (size_t i = 0; i < k; ++i) m.tp += recs[i].matched & 1;
        m.fp = static_cast<int>(k) - m.tp;
        m.precision = k ? precision[k - 1] : 0.0;
        m.recall = k ? recall[k - 1] : 0.0;
        m.f1 = F1(m.precision, m.recall);
      }
      // Precision envelope (monotone non-increasing), sampled at the recall points.
      for (size_t i = n; i-- > 1;) precision[i - 1] = std::max(precision[i - 1], precision[i]);
      double sum = 0;
      for (int r = 0; r < kNumRecallPoints; ++r) {
        const size_t at = static_cast<size_t>(
            std::lower_bound(recall.begin(), recall.end(), RecallPoint(r)) - recall.begin());
        const double q = at < n ? precision[at] : 0.0;
        sum += q;
        if (t == 0) {
          m.pr_precision[r] = q;
          m.pr_score[r] = at < n ? recs[at].score : 0.0;
        }
      }
      m.ap[t] = sum / kNumRecallPoints;
    }
    m.ap50 = m.ap[0];
    m.ap75 = m.ap[5];
    double s = 0;
    for (double a : m.ap) s += a;
    m.ap50_95 = s / kNumIouThresholds;

    ++report.num_classes_with_gt;
    report.map50 += m.ap50;
    report.map75 += m.ap75;
    report.map50_95 += m.ap50_95;
    report.precision += m.precision;
    report.recall += m.recall;
    report.classes.push_back(std::move(m));
  }
  if (report.num_classes_with_gt > 0) {
    const double k = report.num_classes_with_gt;
    report.map50 /= k;
    report.map75 /= k;
    report.map50_95 /= k;
    report.precision /= k;
    report.recall /= k;
  }
  report.f1 = F1(report.precision, report.recall);
  return report;
}

}  // namespace vqi::eval
