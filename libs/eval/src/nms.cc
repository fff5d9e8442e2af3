#include "vqi/eval/nms.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace vqi::eval {

namespace {

float Area(const Detection& d) { return std::max(0.0f, d.x2 - d.x1) * std::max(0.0f, d.y2 - d.y1); }

float IoUWithAreas(const Detection& a, float area_a, const Detection& b, float area_b) {
  const float iw = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  const float ih = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) return 0.0f;
  const float inter = iw * ih;
  const float uni = area_a + area_b - inter;
  return uni > 0 ? inter / uni : 0.0f;
}

}  // namespace

float IoU(const Detection& a, const Detection& b) { return IoUWithAreas(a, Area(a), b, Area(b)); }

std::vector<int> NmsIndices(std::span<const Detection> candidates, const NmsOptions& options) {
  std::vector<int> order;
  order.reserve(candidates.size());
  for (size_t i = 0; i < candidates.size(); ++i)
    if (!std::isnan(candidates[i].score)) order.push_back(static_cast<int>(i));
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return candidates[a].score > candidates[b].score; });
  const size_t limit =
      options.max_detections > 0 ? static_cast<size_t>(options.max_detections) : candidates.size();
  // Kept boxes per class (one bucket when class-agnostic), contiguous for the inner loop.
  struct Kept {
    Detection box;
    float area;
  };
  std::vector<std::vector<Kept>> buckets;
  std::unordered_map<int, size_t> bucket_of;
  std::vector<int> kept;
  kept.reserve(std::min(limit, order.size()));
  for (int i : order) {
    if (kept.size() >= limit) break;
    const Detection& c = candidates[i];
    const int key = options.class_agnostic ? 0 : c.class_id;
    auto [it, inserted] = bucket_of.try_emplace(key, buckets.size());
    if (inserted) buckets.emplace_back();
    std::vector<Kept>& bucket = buckets[it->second];
    const float area = Area(c);
    bool suppressed = false;
    for (const Kept& k : bucket) {
      if (IoUWithAreas(c, area, k.box, k.area) > options.iou_threshold) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) {
      kept.push_back(i);
      bucket.push_back({c, area});
    }
  }
  return kept;
}

std::vector<Detection> Nms(std::span<const Detection> candidates, const NmsOptions& options) {
  std::vector<Detection> out;
  for (int i : NmsIndices(candidates, options)) out.push_back(candidates[i]);
  return out;
}

std::vector<Detection> FilterAndNms(std::span<const Detection> candidates,
                                    const DetectOptions& options) {
  std::vector<Detection> passing;
  for (const Detection& d : candidates)
    if (d.score >= options.conf_threshold) passing.push_back(d);
  return Nms(passing, {options.iou_threshold, options.max_detections, options.class_agnostic});
}

}  // namespace vqi::eval
