// Grouped fold assignment and the per-fold parts (pure functions, no torch).
#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "vqi/base/hash.h"
#include "vqi/dataset/split.h"
#include "vqi/train/cv.h"

namespace vqi::train {

Result<std::vector<int>> AssignFolds(const std::vector<dataset::Sample>& samples, int folds,
                                     uint64_t seed) {
  if (folds < 2 || folds > kMaxFolds)
    return InvalidArgument("--folds " + std::to_string(folds) + " is outside [2, " +
                           std::to_string(kMaxFolds) + "]");
  if (samples.empty())
    return FailedPrecondition("no labelled images to cross-validate (import labelled data first)");
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < samples.size(); ++i) groups[samples[i].capture_id].push_back(i);
  if (groups.size() < static_cast<size_t>(folds))
    return InvalidArgument("--folds " + std::to_string(folds) + " is more than the " +
                           std::to_string(groups.size()) + " captures of the " +
                           std::to_string(samples.size()) +
                           " labelled images (the images of one capture stay in one fold)");
  // The same order as dataset::AssignSplit: portable, and a capture keeps its place as data
  // is added.
  std::vector<std::pair<std::string, const std::vector<size_t>*>> order;
  for (const auto& [capture, members] : groups)
    order.emplace_back(Sha256Hex(std::to_string(seed) + "\n" + capture), &members);
  std::sort(order.begin(), order.end());
  std::vector<size_t> size(static_cast<size_t>(folds), 0);
  std::vector<int> out(samples.size(), 0);
  for (const auto& [key, members] : order) {
    const size_t k = static_cast<size_t>(std::min_element(size.begin(), size.end()) - size.begin());
    size[k] += members->size();
    for (size_t i : *members) out[i] = static_cast<int>(k);
  }
  return out;
}

FoldParts MakeFoldParts(const std::vector<dataset::Sample>& samples, const std::vector<int>& fold,
                        int k, double val_fraction, uint64_t seed) {
  FoldParts p;
  std::vector<dataset::Sample> rest;
  for (size_t i = 0; i < samples.size(); ++i) (fold[i] == k ? p.test : rest).push_back(samples[i]);
  if (val_fraction <= 0) {
    p.train = std::move(rest);
    return p;
  }
  // A different grouping order per fold, so the validation captures are not the same
  // hash-first captures in every fold.
  const uint64_t fold_seed = seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(k) + 1;
  const std::vector<std::string> part =
      dataset::AssignSplit(rest, {1.0 - val_fraction, val_fraction, 0.0}, fold_seed);
  for (size_t i = 0; i < rest.size(); ++i)
    (part[i] == "val" ? p.val : p.train).push_back(std::move(rest[i]));
  return p;
}

Spread SpreadOf(const std::vector<double>& v) {
  Spread s;
  if (v.empty()) return s;
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  double sum = 0;
  for (double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  if (v.size() > 1) {
    double ss = 0;
    for (double x : v) ss += (x - s.mean) * (x - s.mean);
    s.std = std::sqrt(ss / static_cast<double>(v.size() - 1));
  }
  return s;
}

}  // namespace vqi::train
