#include "vqi/eval/nms.h"

#include <algorithm>
#include <cmath>

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
  std::vector<int> kept;
  std::vector<float> kept_area;
  kept.reserve(std::min(limit, candidates.size()));
  kept_area.reserve(kept.capacity());
  for (int i : order) {
    if (kept.size() >= limit) break;
    const Detection& c = candidates[i];
    const float area = Area(c);
    bool suppressed = false;
    for (size_t k = 0; k < kept.size(); ++k) {
      const Detection& o = candidates[kept[k]];
      if (!options.class_agnostic && o.class_id != c.class_id) continue;
      if (IoUWithAreas(c, area, o, kept_area[k]) > options.iou_threshold) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) {
      kept.push_back(i);
      kept_area.push_back(area);
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
