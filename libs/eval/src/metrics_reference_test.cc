// The Evaluator against a slow, direct reference on random seeded fixtures.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "vqi/eval/metrics.h"

namespace vqi::eval {
namespace {

struct Image {
  std::vector<GtBox> gt;
  std::vector<Detection> det;
};

double RefIoU(const GtBox& g, const Detection& d) {
  double ix = std::max(0.0, std::min<double>(g.x2, d.x2) - std::max<double>(g.x1, d.x1));
  double iy = std::max(0.0, std::min<double>(g.y2, d.y2) - std::max<double>(g.y1, d.y1));
  double inter = ix * iy;
  double uni = (double(g.x2) - g.x1) * (double(g.y2) - g.y1) +
               (double(d.x2) - d.x1) * (double(d.y2) - d.y1) - inter;
  return uni > 0 ? inter / uni : 0;
}

struct RefClass {
  bool has_gt = false;
  double ap[10] = {};
  double p = 0, r = 0;
};

// Straight from the definitions: rank all detections of the class over the whole set (score
// descending, then image, then position); walk them and give each the unmatched box of its
// image with the largest IoU (the last such box on a tie) if that IoU reaches the threshold.
// Interpolated precision at recall level x = the best precision at any rank whose recall is
// at least x.
RefClass Reference(const std::vector<Image>& images, int cls, float conf) {
  RefClass out;
  int ngt = 0;
  for (const Image& im : images)
    for (const GtBox& g : im.gt) ngt += g.class_id == cls;
  if (ngt == 0) return out;
  out.has_gt = true;
  struct Ref {
    float score;
    int image, index;
  };
  std::vector<Ref> ranked;
  for (int i = 0; i < int(images.size()); ++i)
    for (int k = 0; k < int(images[i].det.size()); ++k)
      if (images[i].det[k].class_id == cls) ranked.push_back({images[i].det[k].score, i, k});
  std::sort(ranked.begin(), ranked.end(), [](const Ref& a, const Ref& b) {
    return std::tie(b.score, a.image, a.index) < std::tie(a.score, b.image, b.index);
  });
  for (int t = 0; t < 10; ++t) {
    const double thr = 0.5 + 0.05 * t;
    std::vector<std::vector<bool>> used;
    for (const Image& im : images) used.emplace_back(im.gt.size(), false);
    std::vector<double> prec, rec;
    int tp = 0, seen = 0, tp_conf = 0, seen_conf = 0;
    for (const Ref& r : ranked) {
      const Image& im = images[r.image];
      double best = -1;
      int best_g = -1;
      for (int g = 0; g < int(im.gt.size()); ++g) {
        if (im.gt[g].class_id != cls || used[r.image][g]) continue;
        double iou = RefIoU(im.gt[g], im.det[r.index]);
        if (iou >= best) best = iou, best_g = g;
      }
      bool hit = best_g >= 0 && best >= thr;
      if (hit) used[r.image][best_g] = true;
      tp += hit;
      ++seen;
      prec.push_back(double(tp) / seen);
      rec.push_back(double(tp) / ngt);
      if (r.score >= conf) tp_conf += hit, ++seen_conf;
    }
    double sum = 0;
    for (int k = 0; k <= 100; ++k) {
      const double level = k == 100 ? 1.0 : k * 0.01;
      double best = 0;
      for (size_t i = 0; i < prec.size(); ++i)
        if (rec[i] >= level) best = std::max(best, prec[i]);
      sum += best;
    }
    out.ap[t] = sum / 101;
    if (t == 0) {
      out.p = seen_conf ? double(tp_conf) / seen_conf : 0;
      out.r = double(tp_conf) / ngt;
    }
  }
  return out;
}

std::vector<Image> RandomImages(uint64_t seed, int num_images, int classes, bool tied_scores) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0, 1);
  std::uniform_int_distribution<int> cls(0, classes - 1), ngt(0, 5);
  std::vector<Image> images(num_images);
  auto score = [&] { return tied_scores ? std::round(u(rng) * 10) / 10 : u(rng); };
  for (Image& im : images) {
    const int n = ngt(rng);
    for (int i = 0; i < n; ++i) {
      float x = u(rng) * 400, y = u(rng) * 300, w = 5 + u(rng) * 100, h = 5 + u(rng) * 60;
      im.gt.push_back({x, y, x + w, y + h, cls(rng)});
      // 0-2 detections per box, jittered so their IoUs spread over all thresholds; sometimes
      // with the wrong class.
      const int copies = static_cast<int>(u(rng) * 3);
      for (int c = 0; c < copies; ++c) {
        float j = u(rng) * 0.4f;
        float dx = (u(rng) - 0.5f) * j * w, dy = (u(rng) - 0.5f) * j * h;
        float sw = 1 + (u(rng) - 0.5f) * j, sh = 1 + (u(rng) - 0.5f) * j;
        int dc = u(rng) < 0.1f ? cls(rng) : im.gt.back().class_id;
        im.det.push_back({x + dx, y + dy, x + dx + w * sw, y + dy + h * sh, score(), dc});
      }
    }
    const int noise = static_cast<int>(u(rng) * 4);
    for (int i = 0; i < noise; ++i) {
      float x = u(rng) * 400, y = u(rng) * 300;
      im.det.push_back({x, y, x + 5 + u(rng) * 100, y + 5 + u(rng) * 60, score(), cls(rng)});
    }
    std::shuffle(im.det.begin(), im.det.end(), rng);
  }
  return images;
}

TEST(MetricsReferenceTest, AgreesOnRandomFixtures) {
  int compared = 0;
  for (uint64_t seed = 1; seed <= 24; ++seed) {
    const int classes = 1 + static_cast<int>(seed % 4);
    const bool tied = seed % 3 == 0;
    const float conf = seed % 2 ? 0.25f : 0.5f;
    std::vector<Image> images = RandomImages(seed, 20 + static_cast<int>(seed) * 3, classes, tied);
    std::vector<std::string> names(classes, "c");
    Evaluator ev(names);
    for (const Image& im : images) ASSERT_TRUE(ev.AddImage(im.gt, im.det).ok());
    EvalReport r = ev.Compute({conf});
    double map50 = 0, map = 0;
    int with_gt = 0;
    for (int c = 0; c < classes; ++c) {
      RefClass ref = Reference(images, c, conf);
      const ClassMetrics& m = r.classes[c];
      ASSERT_EQ(m.has_gt, ref.has_gt) << "seed " << seed << " class " << c;
      if (!ref.has_gt) continue;
      double mean = 0;
      for (int t = 0; t < 10; ++t) {
        EXPECT_NEAR(m.ap[t], ref.ap[t], 1e-9) << "seed " << seed << " class " << c << " t " << t;
        mean += ref.ap[t] / 10;
        ++compared;
      }
      EXPECT_NEAR(m.precision, ref.p, 1e-9) << "seed " << seed;
      EXPECT_NEAR(m.recall, ref.r, 1e-9) << "seed " << seed;
      map50 += ref.ap[0];
      map += mean;
      ++with_gt;
    }
    ASSERT_GT(with_gt, 0);
    EXPECT_NEAR(r.map50, map50 / with_gt, 1e-9) << "seed " << seed;
    EXPECT_NEAR(r.map50_95, map / with_gt, 1e-9) << "seed " << seed;
  }
  EXPECT_GT(compared, 300);  // the fixtures really exercised many classes and thresholds
}

TEST(MetricsReferenceTest, FixturesAreNotTrivial) {
  // Guards the test above against fixtures that score 0 or 1 everywhere.
  std::vector<Image> images = RandomImages(7, 60, 2, false);
  RefClass ref = Reference(images, 0, 0.25f);
  ASSERT_TRUE(ref.has_gt);
  EXPECT_GT(ref.ap[0], 0.2);
  EXPECT_LT(ref.ap[0], 0.95);
  EXPECT_LT(ref.ap[9], ref.ap[0]);
}

}  // namespace
}  // namespace vqi::eval
