#include "smoothed.h"

#include <fstream>

#include "vqi/base/json.h"

namespace vqi::train {

bool SmoothedBest::Add(double fitness) {
  window_.push_back(fitness);
  if (window_.size() > kSmoothWindow) window_.pop_front();
  double sum = 0;
  for (double f : window_) sum += f;
  const double mean = sum / static_cast<double>(window_.size());
  if (mean < best_) return false;
  best_ = mean;
  return true;
}

void SmoothedBest::Replay(const std::string& metrics_path) {
  std::ifstream f(metrics_path);
  if (!f) return;
  std::string line;
  while (std::getline(f, line)) {
    auto j = ParseJson(line);
    if (!j.ok() || !j->is_object()) continue;
    auto a = j->find("map50"), b = j->find("map50_95");
    if (a == j->end() || b == j->end() || !a->is_number() || !b->is_number()) continue;
    Add(Fitness(a->get<double>(), b->get<double>()));
  }
}

}  // namespace vqi::train
