// The drift monitor's training statistics (libs/inspect stats.h) of a dataset split part, with
// a model's outputs when one is given: what `vqi inspect stats` writes and what
// `vqi component from-model` packages as stats.json beside model.onnx. Here, in the CLI layer,
// because it joins libs/dataset and libs/detect with libs/inspect (which links neither).
#pragma once

#include <string>

#include "cli.h"
#include "vqi/blob/blob_store.h"
#include "vqi/inspect/stats.h"
#include "vqi/registry/types.h"

namespace vqi::cli {

struct SplitStatsRequest {
  std::string dataset = "default", split = "default", part = "train";
  std::string model;  // "" = input features only; else a checkpoint or .onnx file
  std::string backend = "auto";
  float score_threshold = 0.25f;  // the device's ScoreThreshold (the box count feature)
};

// Errors: the dataset or split missing (NotFound naming them), no usable image
// (InvalidArgument), the model not opening.
Result<inspect::StatsReport> ComputeSplitStats(const Context& ctx, const SplitStatsRequest& r);

// stats.json for an approved model version, written into `out_dir`: the train part of the split
// its lineage names, with the outputs of its model.onnx (a blob of `blobs`). Returns
// the file, or "" when there is nothing to compute from — the lineage names no dataset or split,
// the dataset or split is not in this home, or the split was replaced since training (its digest
// differs) — after saying why on stderr. Other failures are errors.
Result<std::string> ModelVersionStats(const Context& ctx, const registry::ModelVersion& v,
                                      const blob::BlobStore& blobs, const std::string& out_dir,
                                      const std::string& backend, float score_threshold);

}  // namespace vqi::cli
