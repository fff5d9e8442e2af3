// mAP on small fixtures whose answers are worked out by hand in each test.
#include "vqi/eval/metrics.h"

#include <gtest/gtest.h>

#include <limits>

namespace vqi::eval {
namespace {

GtBox G(float x1, float y1, float x2, float y2, int cls = 0) { return {x1, y1, x2, y2, cls}; }
Detection D(const GtBox& g, float score, float dx = 0, int cls = -1) {
  return {g.x1 + dx, g.y1, g.x2 + dx, g.y2, score, cls < 0 ? g.class_id : cls};
}

EvalReport Evaluate(
    const std::vector<std::pair<std::vector<GtBox>, std::vector<Detection>>>& images,
    int classes = 1, float conf = 0.25f) {
  std::vector<std::string> names;
  for (int c = 0; c < classes; ++c) names.emplace_back(1, static_cast<char>('a' + c));
  Evaluator ev(names);
  for (const auto& [gt, det] : images) EXPECT_TRUE(ev.AddImage(gt, det).ok());
  return ev.Compute({conf});
}

TEST(MetricsTest, GridsMatchNumpyLinspace) {
  EXPECT_DOUBLE_EQ(IouThreshold(0), 0.5);
  EXPECT_DOUBLE_EQ(IouThreshold(5), 0.75);
  EXPECT_EQ(IouThreshold(9), 0.95);
  EXPECT_EQ(RecallPoint(0), 0.0);
  EXPECT_EQ(RecallPoint(3), 3 * 0.01);  // 0.030000000000000002, as numpy makes it
  EXPECT_EQ(RecallPoint(100), 1.0);
}

TEST(MetricsTest, PerfectPredictionsScoreOne) {
  GtBox a = G(10, 10, 50, 40), b = G(100, 20, 130, 90), c = G(5, 5, 25, 200);
  EvalReport r = Evaluate({{{a, b}, {D(b, 0.3f), D(a, 0.9f)}}, {{c}, {D(c, 0.5f)}}, {{}, {}}});
  EXPECT_DOUBLE_EQ(r.map50, 1.0);
  EXPECT_DOUBLE_EQ(r.map50_95, 1.0);
  EXPECT_DOUBLE_EQ(r.precision, 1.0);
  EXPECT_DOUBLE_EQ(r.recall, 1.0);
  EXPECT_DOUBLE_EQ(r.f1, 1.0);
  EXPECT_EQ(r.num_images, 3);
  EXPECT_EQ(r.num_gt, 3);
  EXPECT_EQ(r.classes[0].tp, 3);
  EXPECT_EQ(r.classes[0].fp, 0);
}

TEST(MetricsTest, ShiftedBoxesPassOnlyLowThresholds) {
  // 100x100 box shifted by dx: IoU = (100 - dx) / (100 + dx).
  GtBox g = G(0, 0, 100, 100);
  // dx = 20: IoU 2/3 >= 0.50, 0.55, 0.60, 0.65 -> 4 of 10 thresholds.
  EvalReport r = Evaluate({{{g}, {D(g, 0.9f, 20)}}});
  EXPECT_DOUBLE_EQ(r.map50, 1.0);
  EXPECT_DOUBLE_EQ(r.map75, 0.0);
  EXPECT_NEAR(r.map50_95, 0.4, 1e-12);
  // dx = 10: IoU 9/11 = 0.818 -> 0.50 ... 0.80 = 7 thresholds.
  r = Evaluate({{{g}, {D(g, 0.9f, 10)}}});
  EXPECT_NEAR(r.map50_95, 0.7, 1e-12);
  EXPECT_DOUBLE_EQ(r.map75, 1.0);
  // dx = 40: IoU 60/140 = 0.43 -> nothing; the detection is a false positive.
  r = Evaluate({{{g}, {D(g, 0.9f, 40)}}});
  EXPECT_DOUBLE_EQ(r.map50, 0.0);
  EXPECT_EQ(r.classes[0].fp, 1);
}

TEST(MetricsTest, DuplicatesAreFalsePositives) {
  GtBox g = G(0, 0, 50, 50);
  // The first (higher) duplicate is the match: precision 1 at recall 1, so AP stays 1 ...
  EvalReport r = Evaluate({{{g}, {D(g, 0.8f, 1), D(g, 0.9f)}}});
  EXPECT_DOUBLE_EQ(r.map50, 1.0);
  // ... but at the confidence threshold both count: P = 1/2, R = 1, F1 = 2/3.
  EXPECT_DOUBLE_EQ(r.precision, 0.5);
  EXPECT_DOUBLE_EQ(r.recall, 1.0);
  EXPECT_NEAR(r.f1, 2.0 / 3.0, 1e-12);
  EXPECT_EQ(r.classes[0].fp, 1);
  // A duplicate scored above another image's match lowers AP. Image 1: TP 0.9, duplicate
  // 0.8; image 2: TP 0.7. (recall, precision): (1/2, 1), (1/2, 1/2), (1, 2/3).
  // Envelope at recall <= 0.5: 1; above: 2/3. AP = (51 * 1 + 50 * 2/3) / 101.
  GtBox h = G(200, 0, 250, 50);
  r = Evaluate({{{g}, {D(g, 0.9f), D(g, 0.8f, 2)}}, {{h}, {D(h, 0.7f)}}});
  EXPECT_NEAR(r.map50, (51 + 50 * 2.0 / 3.0) / 101, 1e-12);
}

TEST(MetricsTest, MissedBoxesCapRecall) {
  GtBox a = G(0, 0, 10, 10), b = G(20, 0, 30, 10), c = G(40, 0, 50, 10), d = G(60, 0, 70, 10);
  // Two of four found with precision 1: recall points 0.00 ... 0.50 (51 of 101) score 1.
  EvalReport r = Evaluate({{{a, b, c, d}, {D(a, 0.9f), D(c, 0.8f)}}});
  EXPECT_NEAR(r.map50, 51.0 / 101.0, 1e-12);
  EXPECT_DOUBLE_EQ(r.recall, 0.5);
  EXPECT_DOUBLE_EQ(r.precision, 1.0);
  // Nothing detected at all: AP 0, P 0 (no detections), R 0.
  r = Evaluate({{{a, b}, {}}});
  EXPECT_DOUBLE_EQ(r.map50, 0.0);
  EXPECT_DOUBLE_EQ(r.precision, 0.0);
  EXPECT_DOUBLE_EQ(r.f1, 0.0);
}

TEST(MetricsTest, ConfidenceOrderingMatters) {
  GtBox a = G(0, 0, 10, 10), b = G(20, 0, 30, 10), fp = G(100, 100, 120, 120);
  // False positive scored lowest: AP 1.
  EXPECT_DOUBLE_EQ(Evaluate({{{a, b}, {D(a, 0.9f), D(b, 0.8f), D(fp, 0.7f)}}}).map50, 1.0);
  // Scored highest: PR (1/2, 1/2), (1, 2/3); the envelope is 2/3 everywhere.
  EXPECT_NEAR(Evaluate({{{a, b}, {D(a, 0.8f), D(b, 0.7f), D(fp, 0.9f)}}}).map50, 2.0 / 3.0, 1e-12);
  // Three GT; order TP FP TP FP: recall 1/3,1/3,2/3,2/3, precision 1,1/2,2/3,1/2.
  // Recall points 0.00-0.33 (34) -> 1; 0.34-0.66 (33) -> 2/3; 0.67-1.00 -> 0.
  GtBox c = G(40, 0, 50, 10), fp2 = G(200, 200, 220, 220);
  EvalReport r = Evaluate({{{a, b, c}, {D(a, 0.9f), D(fp, 0.8f), D(b, 0.7f), D(fp2, 0.6f)}}});
  EXPECT_NEAR(r.map50, (34 + 33 * 2.0 / 3.0) / 101, 1e-12);
  // Detections below the confidence threshold do not count for P/R.
  r = Evaluate({{{a, b}, {D(a, 0.9f), D(b, 0.1f)}}});
  EXPECT_DOUBLE_EQ(r.recall, 0.5);
  EXPECT_DOUBLE_EQ(r.map50, 1.0);
}

TEST(MetricsTest, ImagesWithoutGroundTruthCountAsFalsePositives) {
  GtBox a = G(0, 0, 10, 10);
  // The empty image's detection (0.9) ranks first: precision 1/2 at recall 1.
  EvalReport r = Evaluate({{{a}, {D(a, 0.5f)}}, {{}, {D(a, 0.9f)}}});
  EXPECT_NEAR(r.map50, 0.5, 1e-12);
  EXPECT_EQ(r.classes[0].fp, 1);
}

TEST(MetricsTest, MatchesHighestIoUAndEachGroundTruthOnce) {
  GtBox a = G(0, 0, 10, 10), b = G(2, 0, 12, 10);
  // det1 is exactly b (IoU 2/3 with a); det2 is exactly a (IoU 2/3 with b). Taking the highest
  // IoU gives two perfect matches at every threshold; taking the first box above 0.5 would
  // pair det1 with a and leave det2 with b at IoU 2/3 only.
  EvalReport r = Evaluate({{{a, b}, {D(b, 0.9f), D(a, 0.8f)}}});
  EXPECT_DOUBLE_EQ(r.map50_95, 1.0);
  // One detection cannot match two boxes.
  r = Evaluate({{{a, a}, {D(a, 0.9f)}}});
  EXPECT_NEAR(r.map50, 51.0 / 101.0, 1e-12);
}

TEST(MetricsTest, ClassesAreSeparateAndClassesWithoutGroundTruthAreExcluded) {
  GtBox a = G(0, 0, 10, 10, 0), b = G(20, 0, 30, 10, 1);
  // Class 1's box is found with the wrong class: class 0 gets a FP, class 1 a miss.
  EvalReport r = Evaluate({{{a, b}, {D(a, 0.9f), D(b, 0.8f, 0, 0)}}}, 3);
  EXPECT_EQ(r.num_classes_with_gt, 2);
  EXPECT_DOUBLE_EQ(r.classes[0].ap50, 1.0);  // FP ranked after the TP
  EXPECT_DOUBLE_EQ(r.classes[1].ap50, 0.0);
  EXPECT_DOUBLE_EQ(r.map50, 0.5);
  EXPECT_FALSE(r.classes[2].has_gt);
  // Detections of a class without ground truth leave the mean alone.
  r = Evaluate({{{a}, {D(a, 0.9f), D(a, 0.95f, 0, 2)}}}, 3);
  EXPECT_EQ(r.num_classes_with_gt, 1);
  EXPECT_DOUBLE_EQ(r.map50, 1.0);
  EXPECT_EQ(r.classes[2].num_detections, 1);
}

TEST(MetricsTest, NoImagesGivesZeros) {
  Evaluator ev({"scratch"});
  EvalReport r = ev.Compute();
  EXPECT_EQ(r.num_images, 0);
  EXPECT_EQ(r.num_classes_with_gt, 0);
  EXPECT_DOUBLE_EQ(r.map50, 0.0);
}

TEST(MetricsTest, RejectsBadInputNamingIt) {
  Evaluator ev({"scratch"});
  GtBox ok = G(0, 0, 10, 10);
  Status s = ev.AddImage({{G(0, 0, 10, 10, 1)}}, {}, "img7.jpg");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("img7.jpg: ground-truth box 0: class_id 1"), std::string::npos);
  s = ev.AddImage({{ok}}, {{D(ok, std::numeric_limits<float>::quiet_NaN())}}, "x");
  EXPECT_NE(s.message().find("detection 0: non-finite score"), std::string::npos);
  s = ev.AddImage({{G(10, 0, 0, 10)}}, {}, "x");
  EXPECT_NE(s.message().find("x2 < x1"), std::string::npos);
  EXPECT_EQ(ev.num_images(), 0);
  EXPECT_EQ(ev.Compute().num_gt, 0);
}

TEST(MetricsTest, CurvesAndJson) {
  GtBox a = G(0, 0, 10, 10), b = G(20, 0, 30, 10);
  EvalReport r = Evaluate({{{a, b}, {D(a, 0.9f), D(b, 0.4f)}}}, 2);
  const ClassMetrics& m = r.classes[0];
  EXPECT_DOUBLE_EQ(m.pr_precision[100], 1.0);
  EXPECT_FLOAT_EQ(static_cast<float>(m.pr_score[100]), 0.4f);  // recall 1 needs the 0.4 box
  EXPECT_FLOAT_EQ(static_cast<float>(m.pr_score[50]), 0.9f);
  EXPECT_DOUBLE_EQ(m.conf_recall[50], 0.5);  // conf 0.50 keeps only the 0.9 box
  EXPECT_DOUBLE_EQ(m.conf_recall[40], 1.0);
  EXPECT_DOUBLE_EQ(m.conf_precision[95], 0.0);
  OrderedJson j = ReportToJson(r);
  EXPECT_DOUBLE_EQ(j["map50"].get<double>(), 1.0);
  EXPECT_EQ(j["per_class"].size(), 2u);
  EXPECT_TRUE(j["per_class"][1]["ap50"].is_null());
  EXPECT_EQ(j["per_class"][0]["pr_curve_iou50"]["precision"].size(), 101u);
  EXPECT_FALSE(ReportToJson(r, false)["per_class"][0].contains("pr_curve_iou50"));
  EXPECT_NE(FormatReport(r).find("no ground truth"), std::string::npos);
}

}  // namespace
}  // namespace vqi::eval
