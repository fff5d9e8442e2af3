// Grouped, seeded train/val/test assignment (pure functions; the Store persists the result).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/dataset/sample.h"
#include "vqi/dataset/store.h"

namespace vqi::dataset {

// InvalidArgument unless every ratio is >= 0 and they sum to 1 (within 1e-6).
Status ValidateRatios(const SplitRatios& r);
// Parses "0.7,0.15,0.15".
Result<SplitRatios> ParseRatios(const std::string& text);

// The part ("train", "val" or "test") of each sample, index-aligned with `samples`.
// All samples of one capture id get the same part. Groups are ordered by SHA-256 of
// (seed, capture id), which is portable and keeps a group's place stable as data grows,
// then each group goes to the part furthest below its target image count.
std::vector<std::string> AssignSplit(const std::vector<Sample>& samples, const SplitRatios& r,
                                     uint64_t seed);

// The digest of a snapshot: SHA-256 over its sorted (part, image id, boxes) lines.
std::string SplitDigestOf(const std::vector<std::pair<std::string, Sample>>& members);

}  // namespace vqi::dataset
