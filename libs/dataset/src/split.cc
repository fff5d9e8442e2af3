#include "vqi/dataset/split.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <sstream>

#include "store_impl.h"
#include "vqi/base/hash.h"

namespace vqi::dataset {

Status ValidateRatios(const SplitRatios& r) {
  if (r.train < 0 || r.val < 0 || r.test < 0 || !std::isfinite(r.train + r.val + r.test))
    return InvalidArgument("split ratios must be >= 0");
  if (std::abs(r.train + r.val + r.test - 1.0) > 1e-6)
    return InvalidArgument("split ratios must sum to 1, got " +
                           std::to_string(r.train + r.val + r.test));
  return Status::Ok();
}

Result<SplitRatios> ParseRatios(const std::string& text) {
  std::vector<double> v;
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, ',')) {
    size_t used = 0;
    double d = 0;
    try {
      d = std::stod(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != part.size())
      return InvalidArgument("split ratios '" + text + "': '" + part + "' is not a number");
    v.push_back(d);
  }
  if (v.size() != 3) return InvalidArgument("split ratios '" + text + "': expected train,val,test");
  SplitRatios r{v[0], v[1], v[2]};
  VQI_RETURN_IF_ERROR(ValidateRatios(r));
  return r;
}

std::vector<std::string> AssignSplit(const std::vector<Sample>& samples, const SplitRatios& r,
                                     uint64_t seed) {
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < samples.size(); ++i) groups[samples[i].capture_id].push_back(i);
  std::vector<std::pair<std::string, std::string>> order;  // (hash key, capture id)
  for (const auto& [capture, members] : groups)
    order.emplace_back(Sha256Hex(std::to_string(seed) + "\n" + capture), capture);
  std::sort(order.begin(), order.end());

  static const char* kParts[] = {"train", "val", "test"};
  const double n = static_cast<double>(samples.size());
  const double target[3] = {r.train * n, r.val * n, r.test * n};
  double have[3] = {0, 0, 0};
  std::vector<std::string> out(samples.size());
  for (const auto& entry : order) {
    const std::vector<size_t>& members = groups[entry.second];
    int best = 0;
    double best_deficit = -1e300;
    for (int p = 0; p < 3; ++p) {
      if (target[p] <= 0) continue;
      // Relative deficit, so small parts get their first group early.
      const double deficit = (target[p] - have[p]) / target[p];
      if (deficit > best_deficit) {
        best_deficit = deficit;
        best = p;
      }
    }
    have[best] += static_cast<double>(members.size());
    for (size_t i : members) out[i] = kParts[best];
  }
  return out;
}

std::string SplitDigestOf(const std::vector<std::pair<std::string, Sample>>& members) {
  std::vector<std::string> lines;
  lines.reserve(members.size());
  for (const auto& [part, s] : members)
    lines.push_back(part + "\t" + s.image_id + "\t" + BoxesToJson(s.boxes) + "\n");
  std::sort(lines.begin(), lines.end());
  Sha256 h;
  h.Update("vqi-split-v1\n");
  for (const auto& l : lines) h.Update(l);
  return h.FinalHex();
}

}  // namespace vqi::dataset
