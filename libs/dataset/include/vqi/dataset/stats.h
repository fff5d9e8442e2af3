// What is in a store: counts, box-size distribution and per-split counts.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vqi/base/json.h"
#include "vqi/dataset/store.h"

namespace vqi::dataset {

struct Distribution {
  int64_t count = 0;
  double min = 0, p10 = 0, median = 0, p90 = 0, max = 0;
};

struct PartStats {
  std::string part;
  int64_t images = 0, boxes = 0, captures = 0, empty = 0;
};

struct SplitStats {
  SplitInfo info;
  std::vector<PartStats> parts;  // train, val, test
};

struct DatasetStats {
  int64_t images = 0, labeled = 0, unlabeled = 0, boxes = 0, empty_labels = 0, captures = 0;
  std::vector<std::string> classes;
  std::vector<int64_t> boxes_per_class;
  Distribution box_width, box_height, box_area_fraction;  // area as a fraction of the image
  // Boxes by sqrt(area) in pixels: "<16", "16-32", "32-64", "64-128", "128-256", ">=256".
  std::vector<std::pair<std::string, int64_t>> box_size_histogram;
  std::vector<SplitStats> splits;

  Json ToJson() const;
  std::string ToText() const;  // a human-readable report
};

Result<DatasetStats> ComputeStats(const Store& store);

}  // namespace vqi::dataset
