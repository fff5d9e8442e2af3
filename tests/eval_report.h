// The evaluation report `vqi model register` needs, for tests that only need a registered,
// approvable model: every metric 0.5 on one image, with the lineage of the split it names.
#pragma once

#include <string>

#include "vqi/base/json.h"

namespace vqi::testing {

inline Json RegisterableReport(const std::string& model, const std::string& dataset = "d",
                               const std::string& split = "s",
                               const std::string& split_digest = std::string(64, 'a')) {
  return {
      {"model", model},
      {"source",
       {{"dataset", dataset}, {"split", split}, {"part", "test"}, {"split_digest", split_digest}}},
      {"failed_images", 0},
      {"metrics",
       {{"images", 1},
        {"map50", 0.5},
        {"map75", 0.5},
        {"map50_95", 0.5},
        {"precision", 0.5},
        {"recall", 0.5},
        {"f1", 0.5},
        {"per_class", Json::array()}}}};
}

}  // namespace vqi::testing
