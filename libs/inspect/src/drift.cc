#include "vqi/inspect/drift.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace vqi::inspect {
namespace {

constexpr int kPercentiles = 101;

double Percentile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

// F_train(x) (right-continuous) and its left limit, from the percentiles.
double TrainCdf(const std::vector<double>& p, double x, bool left) {
  const int last = kPercentiles - 1;
  if (left ? x <= p[0] : x < p[0]) return 0;
  if (left ? x > p[last] : x >= p[last]) return 1;
  // i: the last index with p[i] <= x (right) or p[i] < x (left); then p[i + 1] > x (>= x).
  int i = left ? static_cast<int>(std::lower_bound(p.begin(), p.end(), x) - p.begin()) - 1
               : static_cast<int>(std::upper_bound(p.begin(), p.end(), x) - p.begin()) - 1;
  i = std::clamp(i, 0, last - 1);
  const double span = p[i + 1] - p[i];
  const double frac = span > 0 ? (x - p[i]) / span : 1.0;
  return (i + std::clamp(frac, 0.0, 1.0)) / (kPercentiles - 1);
}

}  // namespace

const char* FeatureName(int f) {
  static const char* kNames[kNumFeatures] = {"brightness", "contrast",   "width",
                                             "height",     "best_score", "box_count"};
  return f >= 0 && f < kNumFeatures ? kNames[f] : "?";
}

FeatureRow ImageFeatures(const eval::ImageView& image) {
  double sum = 0, sum2 = 0;
  int64_t n = 0;
  for (int y = 0; y < image.height; y += 4) {
    const uint8_t* row = image.Row(y);
    for (int x = 0; x < image.width; x += 4) {
      const uint8_t* px = row + 3 * x;  // B, G, R
      const double luma = (114.0 * px[0] + 587.0 * px[1] + 299.0 * px[2]) / 1000.0;
      sum += luma;
      sum2 += luma * luma;
      ++n;
    }
  }
  FeatureRow r;
  const double mean = n ? sum / n : 0;
  r.v[kBrightness] = mean;
  r.v[kContrast] = n ? std::sqrt(std::max(0.0, sum2 / n - mean * mean)) : 0;
  r.v[kWidth] = image.width;
  r.v[kHeight] = image.height;
  return r;
}

Result<TrainingStats> ComputeTrainingStats(const std::vector<FeatureRow>& rows) {
  if (rows.empty()) return InvalidArgument("training statistics need at least one image");
  const bool outputs =
      std::all_of(rows.begin(), rows.end(), [](const FeatureRow& r) { return r.has_outputs; });
  TrainingStats s;
  for (int f = 0; f < kNumFeatures; ++f) {
    if (!outputs && (f == kBestScore || f == kBoxCount)) continue;
    std::vector<double> v;
    v.reserve(rows.size());
    for (const FeatureRow& r : rows) v.push_back(r.v[f]);
    std::sort(v.begin(), v.end());
    FeatureStats fs;
    fs.name = FeatureName(f);
    fs.count = static_cast<int64_t>(v.size());
    double sum = 0, sum2 = 0;
    for (double x : v) sum += x;
    fs.mean = sum / v.size();
    for (double x : v) sum2 += (x - fs.mean) * (x - fs.mean);
    fs.stddev = std::sqrt(sum2 / v.size());
    for (int q = 0; q < kPercentiles; ++q) fs.percentiles.push_back(Percentile(v, q / 100.0));
    s.features.push_back(std::move(fs));
  }
  return s;
}

const FeatureStats* TrainingStats::Find(int feature) const {
  for (const FeatureStats& f : features)
    if (f.name == FeatureName(feature)) return &f;
  return nullptr;
}

Json TrainingStats::ToJson() const {
  Json j;
  j["schema"] = "vqi.inspect.stats/1";
  Json fs = Json::object();
  for (const FeatureStats& f : features)
    fs[f.name] = {
        {"count", f.count}, {"mean", f.mean}, {"stddev", f.stddev}, {"percentiles", f.percentiles}};
  j["features"] = fs;
  return j;
}

Result<TrainingStats> TrainingStats::FromJson(const Json& j, const std::string& where) {
  // Untrusted: every field's type is checked before it is read (nlohmann throws otherwise).
  if (!j.is_object() || !j.contains("schema") || !j["schema"].is_string() ||
      j["schema"].get<std::string>() != "vqi.inspect.stats/1")
    return InvalidArgument(where + ": schema: expected \"vqi.inspect.stats/1\"");
  if (!j.contains("features") || !j["features"].is_object())
    return InvalidArgument(where + ": features: expected an object");
  TrainingStats s;
  for (int f = 0; f < kNumFeatures; ++f) {
    const std::string name = FeatureName(f);
    if (!j["features"].contains(name)) continue;
    const Json& o = j["features"][name];
    const std::string at = where + ": features." + name;
    if (!o.is_object() || !o.contains("count") || !o["count"].is_number_integer() ||
        o["count"].get<int64_t>() < 1 || !o.contains("percentiles") ||
        !o["percentiles"].is_array() || o["percentiles"].size() != kPercentiles)
      return InvalidArgument(at + ": expected {count >= 1, mean, stddev, percentiles[101]}");
    FeatureStats fs;
    fs.name = name;
    fs.count = o["count"].get<int64_t>();
    for (const char* k : {"mean", "stddev"})
      if (o.contains(k) && !o[k].is_number())
        return InvalidArgument(at + "." + k + ": not a number: " + o[k].dump());
    fs.mean = o.value("mean", 0.0);
    fs.stddev = o.value("stddev", 0.0);
    for (const Json& p : o["percentiles"]) {
      if (!p.is_number() || !std::isfinite(p.get<double>()))
        return InvalidArgument(at + ".percentiles: not a finite number: " + p.dump());
      fs.percentiles.push_back(p.get<double>());
    }
    if (!std::is_sorted(fs.percentiles.begin(), fs.percentiles.end()))
      return InvalidArgument(at + ".percentiles: not ascending");
    s.features.push_back(std::move(fs));
  }
  if (s.features.empty()) return InvalidArgument(where + ": features: none of the known features");
  return s;
}

double KsStatistic(const std::vector<double>& w, const std::vector<double>& p) {
  const double n = static_cast<double>(w.size());
  double d = 0;
  auto check = [&](double x) {
    const double fw = (std::upper_bound(w.begin(), w.end(), x) - w.begin()) / n;
    const double fw_left = (std::lower_bound(w.begin(), w.end(), x) - w.begin()) / n;
    d = std::max(d, std::abs(fw - TrainCdf(p, x, false)));
    d = std::max(d, std::abs(fw_left - TrainCdf(p, x, true)));
  };
  for (double x : w) check(x);
  for (double x : p) check(x);
  return d;
}

double KsCriticalValue(double alpha, int64_t n, int64_t m) {
  const double c = std::sqrt(-std::log(alpha / 2) / 2);
  return c * std::sqrt(static_cast<double>(n + m) / (static_cast<double>(n) * m));
}

DriftMonitor::DriftMonitor(TrainingStats stats, int window, int min_window, double alpha)
    : stats_(std::move(stats)),
      window_(static_cast<size_t>(std::max(1, window))),
      min_window_(static_cast<size_t>(std::clamp(min_window, 1, window))),
      alpha_(alpha) {
  scores_.fill(std::numeric_limits<double>::quiet_NaN());
}

std::optional<DriftReport> DriftMonitor::Add(const FeatureRow& row) {
  rows_.push_back(row);
  if (rows_.size() > window_) rows_.pop_front();
  if (rows_.size() < min_window_) return std::nullopt;
  scores_.fill(std::numeric_limits<double>::quiet_NaN());
  std::vector<int> compared;
  for (int f = 0; f < kNumFeatures; ++f) {
    if (!stats_.Find(f)) continue;
    if ((f == kBestScore || f == kBoxCount) &&
        !std::all_of(rows_.begin(), rows_.end(), [](const FeatureRow& r) { return r.has_outputs; }))
      continue;
    compared.push_back(f);
  }
  DriftReport r;
  r.window = static_cast<int>(rows_.size());
  if (compared.empty()) return r;
  const double alpha = alpha_ / compared.size();  // Bonferroni over the features
  r.score = -1;
  for (int f : compared) {
    const FeatureStats& fs = *stats_.Find(f);
    std::vector<double> w;
    w.reserve(rows_.size());
    for (const FeatureRow& x : rows_) w.push_back(x.v[f]);
    std::sort(w.begin(), w.end());
    const double d = KsStatistic(w, fs.percentiles);
    const double s = d / KsCriticalValue(alpha, static_cast<int64_t>(w.size()), fs.count);
    scores_[f] = s;
    r.scores[fs.name] = s;
    if (s > r.score) {
      r.score = s;
      r.feature = fs.name;
    }
  }
  r.alert = r.score > 1.0;
  return r;
}

}  // namespace vqi::inspect
