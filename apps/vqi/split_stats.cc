// Training statistics of a split part, for `vqi inspect stats` and `vqi component from-model`.
#include "split_stats.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "vqi/base/file.h"
#include "vqi/blob/blob_store.h"
#include "vqi/dataset/store.h"
#include "vqi/detect/open.h"

namespace vqi::cli {

Result<inspect::StatsReport> ComputeSplitStats(const Context& ctx, const SplitStatsRequest& r) {
  VQI_ASSIGN_OR_RETURN(auto store, dataset::Store::Open(ctx.home, r.dataset, false));
  VQI_ASSIGN_OR_RETURN(std::vector<dataset::Sample> samples, store->SplitSamples(r.split, r.part));
  std::vector<std::string> files;
  for (const dataset::Sample& s : samples) files.push_back(s.path);
  std::unique_ptr<eval::Detector> detector;
  if (!r.model.empty()) {
    detect::RegisterAvailableBackends();
    VQI_ASSIGN_OR_RETURN(detector, detect::OpenDetector(r.model, {ctx.threads, r.backend}));
  }
  return inspect::ComputeStatsForFiles(files, detector.get(), r.score_threshold);
}

Result<std::string> ModelVersionStats(const Context& ctx, const registry::ModelVersion& v,
                                      const blob::BlobStore& blobs, const std::string& out_dir,
                                      const std::string& backend, float score_threshold) {
  const registry::Lineage& l = v.lineage;
  auto without = [&](const std::string& why) -> Result<std::string> {
    std::fprintf(stderr,
                 "no drift statistics for model %s: %s; packaging without stats.json "
                 "(give --stats FILE from vqi inspect stats, or --no-stats to silence this)\n",
                 v.Ref().c_str(), why.c_str());
    return std::string();
  };
  if (l.dataset.empty() || l.split.empty())
    return without("its lineage names no dataset split (register it with --dataset and --split)");
  const std::vector<std::string> names = dataset::Store::List(ctx.home);
  if (std::find(names.begin(), names.end(), l.dataset) == names.end())
    return without("its dataset '" + l.dataset + "' is not in " + ctx.home);
  VQI_ASSIGN_OR_RETURN(auto store, dataset::Store::Open(ctx.home, l.dataset, false));
  auto digest = store->SplitDigest(l.split);
  if (!digest.ok() && digest.status().code() == StatusCode::kNotFound)
    return without("its split '" + l.split + "' is not in dataset '" + l.dataset + "'");
  if (!digest.ok()) return digest.status();
  if (!l.split_digest.empty() && *digest != l.split_digest)
    return without("split '" + l.dataset + "/" + l.split +
                   "' was replaced since training (digest " + digest->substr(0, 12) +
                   ", trained on " + l.split_digest.substr(0, 12) + ")");
  const registry::ArtifactRef* onnx = v.Artifact("model.onnx");
  if (!onnx) return FailedPrecondition("model " + v.Ref() + " has no model.onnx artifact");
  // Detectors are opened by file name: the blob (no extension) is linked as model.onnx.
  VQI_ASSIGN_OR_RETURN(std::string blob, blobs.Path(onnx->digest));
  const std::string model = out_dir + "/model.onnx";
  std::error_code ec;
  std::filesystem::create_symlink(blob, model, ec);
  if (ec) return Internal("linking " + model + " to " + blob + ": " + ec.message());
  SplitStatsRequest req;
  req.dataset = l.dataset;
  req.split = l.split;
  req.model = model;
  req.backend = backend;
  req.score_threshold = score_threshold;
  VQI_ASSIGN_OR_RETURN(inspect::StatsReport r, ComputeSplitStats(ctx, req));
  const std::string out = out_dir + "/stats.json";
  VQI_RETURN_IF_ERROR(WriteFileAtomic(out, r.stats.ToJson().dump(1) + "\n"));
  for (const std::string& s : r.skipped) std::fprintf(stderr, "skipped: %s\n", s.c_str());
  std::fprintf(stderr,
               "drift statistics: %zu features over %d images of %s/%s/train with the outputs of "
               "model %s\n",
               r.stats.features.size(), r.images, l.dataset.c_str(), l.split.c_str(),
               v.Ref().c_str());
  return out;
}

}  // namespace vqi::cli
