// The evaluation report as JSON and as a short table.
#include <cmath>
#include <cstdio>

#include "vqi/eval/metrics.h"

namespace vqi::eval {

namespace {

// Rounded for people and diffs; the values are far coarser than 1e-6 anyway.
double R6(double v) { return std::round(v * 1e6) / 1e6; }

template <size_t N>
OrderedJson Array(const std::array<double, N>& a) {
  OrderedJson j = OrderedJson::array();
  for (double v : a) j.push_back(R6(v));
  return j;
}

}  // namespace

OrderedJson ReportToJson(const EvalReport& r, bool curves) {
  OrderedJson j;
  j["images"] = r.num_images;
  j["ground_truth_boxes"] = r.num_gt;
  j["detections"] = r.num_detections;
  j["classes_with_ground_truth"] = r.num_classes_with_gt;
  j["map50"] = R6(r.map50);
  j["map75"] = R6(r.map75);
  j["map50_95"] = R6(r.map50_95);
  j["conf_threshold"] = R6(r.conf_threshold);
  j["precision"] = R6(r.precision);
  j["recall"] = R6(r.recall);
  j["f1"] = R6(r.f1);
  OrderedJson iou = OrderedJson::array();
  for (int t = 0; t < kNumIouThresholds; ++t) iou.push_back(R6(IouThreshold(t)));
  j["iou_thresholds"] = iou;
  j["per_class"] = OrderedJson::array();
  for (const ClassMetrics& m : r.classes) {
    OrderedJson c;
    c["class_id"] = m.class_id;
    c["name"] = m.name;
    c["ground_truth_boxes"] = m.num_gt;
    c["detections"] = m.num_detections;
    if (!m.has_gt) {
      // Not part of any mean: AP is undefined without ground truth.
      c["ap50"] = nullptr;
      c["ap50_95"] = nullptr;
      j["per_class"].push_back(c);
      continue;
    }
    c["ap50"] = R6(m.ap50);
    c["ap75"] = R6(m.ap75);
    c["ap50_95"] = R6(m.ap50_95);
    c["ap_per_iou"] = Array(m.ap);
    c["tp"] = m.tp;
    c["fp"] = m.fp;
    c["precision"] = R6(m.precision);
    c["recall"] = R6(m.recall);
    c["f1"] = R6(m.f1);
    if (curves) {
      OrderedJson rec = OrderedJson::array(), conf = OrderedJson::array();
      for (int i = 0; i < kNumRecallPoints; ++i) rec.push_back(R6(RecallPoint(i)));
      for (int i = 0; i < kNumConfPoints; ++i) conf.push_back(R6(i / double(kNumConfPoints - 1)));
      c["pr_curve_iou50"] = {
          {"recall", rec}, {"precision", Array(m.pr_precision)}, {"score", Array(m.pr_score)}};
      c["confidence_curve_iou50"] = {{"confidence", conf},
                                     {"precision", Array(m.conf_precision)},
                                     {"recall", Array(m.conf_recall)},
                                     {"f1", Array(m.conf_f1)}};
    }
    j["per_class"].push_back(c);
  }
  return j;
}

std::string FormatReport(const EvalReport& r) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-16s %7s %7s %8s %7s %7s %7s %7s\n", "class", "gt", "dets",
                "mAP50", "mAP50-95", "P", "R", "F1");
  out += line;
  for (const ClassMetrics& m : r.classes) {
    if (!m.has_gt) {
      std::snprintf(line, sizeof line, "%-16.16s %7d %7d  (no ground truth: not in the means)\n",
                    m.name.c_str(), m.num_gt, m.num_detections);
    } else {
      std::snprintf(line, sizeof line, "%-16.16s %7d %7d %8.4f %8.4f %7.4f %7.4f %7.4f\n",
                    m.name.c_str(), m.num_gt, m.num_detections, m.ap50, m.ap50_95, m.precision,
                    m.recall, m.f1);
    }
    out += line;
  }
  std::snprintf(line, sizeof line, "%-16s %7d %7d %8.4f %8.4f %7.4f %7.4f %7.4f\n", "all", r.num_gt,
                r.num_detections, r.map50, r.map50_95, r.precision, r.recall, r.f1);
  out += line;
  std::snprintf(line, sizeof line, "%d images; P/R/F1 at confidence %.3g, IoU 0.50\n", r.num_images,
                r.conf_threshold);
  out += line;
  return out;
}

}  // namespace vqi::eval
