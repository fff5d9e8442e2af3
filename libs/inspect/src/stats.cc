#include "vqi/inspect/stats.h"

#include <algorithm>

#include "vqi/yolo/image.h"

namespace vqi::inspect {

Result<StatsReport> ComputeStatsForFiles(const std::vector<std::string>& files,
                                         eval::Detector* detector, float score_threshold) {
  StatsReport report;
  std::vector<FeatureRow> rows;
  eval::DetectOptions opts;
  opts.conf_threshold = std::min(score_threshold, 0.001f);
  for (const std::string& f : files) {
    auto image = yolo::DecodeImageFile(f);
    if (!image.ok()) {
      report.skipped.push_back(image.status().ToString());
      continue;
    }
    FeatureRow row = ImageFeatures(image->View());
    if (detector) {
      auto dets = detector->DetectImage(image->View(), f, opts);
      if (!dets.ok()) {
        report.skipped.push_back(dets.status().ToString());
        continue;
      }
      double best = 0, count = 0;
      for (const eval::Detection& d : *dets) {
        best = std::max(best, static_cast<double>(d.score));
        if (d.score >= score_threshold) ++count;
      }
      row.v[kBestScore] = best;
      row.v[kBoxCount] = count;
      row.has_outputs = true;
    }
    rows.push_back(row);
  }
  if (rows.empty())
    return InvalidArgument("no usable image among " + std::to_string(files.size()) + " files" +
                           (report.skipped.empty() ? "" : " (first: " + report.skipped[0] + ")"));
  VQI_ASSIGN_OR_RETURN(report.stats, ComputeTrainingStats(rows));
  report.images = static_cast<int>(rows.size());
  return report;
}

}  // namespace vqi::inspect
