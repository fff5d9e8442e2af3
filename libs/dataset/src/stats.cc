#include "vqi/dataset/stats.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <set>
#include <sstream>

namespace vqi::dataset {
namespace {

Distribution Summarize(std::vector<double> v) {
  Distribution d;
  d.count = static_cast<int64_t>(v.size());
  if (v.empty()) return d;
  std::sort(v.begin(), v.end());
  auto q = [&](double p) { return v[static_cast<size_t>(std::lround(p * (v.size() - 1)))]; };
  d.min = v.front();
  d.p10 = q(0.1);
  d.median = q(0.5);
  d.p90 = q(0.9);
  d.max = v.back();
  return d;
}

Json DistJson(const Distribution& d) {
  return Json{{"count", d.count},   {"min", d.min}, {"p10", d.p10},
              {"median", d.median}, {"p90", d.p90}, {"max", d.max}};
}

std::string DistText(const Distribution& d, int precision) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(precision) << "min " << d.min << "  p10 " << d.p10
    << "  median " << d.median << "  p90 " << d.p90 << "  max " << d.max;
  return s.str();
}

PartStats PartOf(const std::string& part, const std::vector<Sample>& samples) {
  PartStats p;
  p.part = part;
  std::set<std::string> captures;
  for (const Sample& s : samples) {
    ++p.images;
    p.boxes += static_cast<int64_t>(s.boxes.size());
    if (s.boxes.empty()) ++p.empty;
    captures.insert(s.capture_id);
  }
  p.captures = static_cast<int64_t>(captures.size());
  return p;
}

}  // namespace

Result<DatasetStats> ComputeStats(const Store& store) {
  DatasetStats st;
  VQI_ASSIGN_OR_RETURN(std::vector<Sample> labeled, store.LabeledSamples());
  VQI_ASSIGN_OR_RETURN(std::vector<Sample> unlabeled, store.UnlabeledSamples());
  st.labeled = static_cast<int64_t>(labeled.size());
  st.unlabeled = static_cast<int64_t>(unlabeled.size());
  st.images = st.labeled + st.unlabeled;
  st.classes = store.ClassNames();
  st.boxes_per_class.assign(st.classes.size(), 0);
  std::set<std::string> captures;
  for (const Sample& s : unlabeled) captures.insert(s.capture_id);
  static const double kEdges[] = {16, 32, 64, 128, 256};
  static const char* kBins[] = {"<16", "16-32", "32-64", "64-128", "128-256", ">=256"};
  std::vector<int64_t> bins(6, 0);
  std::vector<double> widths, heights, fractions;
  for (const Sample& s : labeled) {
    captures.insert(s.capture_id);
    if (s.boxes.empty()) ++st.empty_labels;
    for (const Box& b : s.boxes) {
      ++st.boxes;
      if (b.class_id >= 0 && b.class_id < static_cast<int>(st.boxes_per_class.size()))
        ++st.boxes_per_class[b.class_id];
      widths.push_back(b.w);
      heights.push_back(b.h);
      if (s.width > 0 && s.height > 0)
        fractions.push_back(static_cast<double>(b.w) * b.h / (double(s.width) * s.height));
      const double side = std::sqrt(static_cast<double>(b.w) * b.h);
      int bin = 0;
      while (bin < 5 && side >= kEdges[bin]) ++bin;
      ++bins[bin];
    }
  }
  st.captures = static_cast<int64_t>(captures.size());
  st.box_width = Summarize(widths);
  st.box_height = Summarize(heights);
  st.box_area_fraction = Summarize(fractions);
  for (int i = 0; i < 6; ++i) st.box_size_histogram.emplace_back(kBins[i], bins[i]);

  VQI_ASSIGN_OR_RETURN(std::vector<SplitInfo> splits, store.Splits());
  for (const SplitInfo& info : splits) {
    SplitStats ss;
    ss.info = info;
    for (const char* part : {"train", "val", "test"}) {
      VQI_ASSIGN_OR_RETURN(std::vector<Sample> samples, store.SplitSamples(info.name, part));
      ss.parts.push_back(PartOf(part, samples));
    }
    st.splits.push_back(std::move(ss));
  }
  return st;
}

Json DatasetStats::ToJson() const {
  Json j{{"images", images},
         {"labeled", labeled},
         {"unlabeled", unlabeled},
         {"boxes", boxes},
         {"empty_labels", empty_labels},
         {"captures", captures},
         {"classes", classes},
         {"boxes_per_class", boxes_per_class},
         {"box_width", DistJson(box_width)},
         {"box_height", DistJson(box_height)},
         {"box_area_fraction", DistJson(box_area_fraction)}};
  Json hist = Json::object();
  for (const auto& [bin, n] : box_size_histogram) hist[bin] = n;
  j["box_size_histogram"] = hist;
  Json sp = Json::array();
  for (const SplitStats& s : splits) {
    Json parts = Json::object();
    for (const PartStats& p : s.parts)
      parts[p.part] = {
          {"images", p.images}, {"boxes", p.boxes}, {"captures", p.captures}, {"empty", p.empty}};
    sp.push_back({{"name", s.info.name},
                  {"seed", s.info.seed},
                  {"ratios", {s.info.ratios.train, s.info.ratios.val, s.info.ratios.test}},
                  {"digest", s.info.digest},
                  {"parts", parts}});
  }
  j["splits"] = sp;
  return j;
}

std::string DatasetStats::ToText() const {
  std::ostringstream s;
  s << "images      " << images << " (" << labeled << " labeled, " << unlabeled << " unlabeled), "
    << captures << " captures\n";
  s << "labels      " << boxes << " boxes, " << empty_labels << " images labeled with no defect\n";
  for (size_t i = 0; i < classes.size(); ++i)
    s << "class " << i << "     " << classes[i] << ": " << boxes_per_class[i] << " boxes\n";
  if (boxes > 0) {
    s << "box width   " << DistText(box_width, 0) << " px\n";
    s << "box height  " << DistText(box_height, 0) << " px\n";
    s << "box area    " << DistText(box_area_fraction, 3) << " of the image\n";
    s << "box size (sqrt(area), px):\n";
    int64_t peak = 1;
    for (const auto& [bin, n] : box_size_histogram) peak = std::max(peak, n);
    for (const auto& [bin, n] : box_size_histogram)
      s << "  " << std::setw(8) << std::left << bin << std::right << std::setw(6) << n << "  "
        << std::string(static_cast<size_t>(40 * n / peak), '#') << "\n";
  }
  if (splits.empty()) s << "splits      none (create one with `vqi dataset split`)\n";
  for (const SplitStats& sp : splits) {
    s << "split '" << sp.info.name << "' (seed " << sp.info.seed << ", digest "
      << sp.info.digest.substr(0, 12) << "):\n";
    s << "  part     images  boxes  captures  no-defect\n";
    for (const PartStats& p : sp.parts)
      s << "  " << std::setw(5) << std::left << p.part << std::right << std::setw(10) << p.images
        << std::setw(7) << p.boxes << std::setw(10) << p.captures << std::setw(11) << p.empty
        << "\n";
  }
  return s.str();
}

}  // namespace vqi::dataset
