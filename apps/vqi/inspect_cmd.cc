// `vqi inspect stats`: the drift monitor's training statistics (libs/inspect stats.h) from the
// images of a dataset split part, optionally with a model's outputs on them.
#include <cstdio>

#include "cli.h"
#include "split_stats.h"
#include "vqi/base/file.h"

namespace vqi::cli {
namespace {

struct StatsFlags {
  std::string dataset = "default", split = "default", part = "train", model, backend = "auto", out;
  float score_threshold = 0.25f;
};

Status RunStats(const Context& ctx, const StatsFlags& f) {
  SplitStatsRequest req;
  req.dataset = f.dataset;
  req.split = f.split;
  req.part = f.part;
  req.model = f.model;
  req.backend = f.backend;
  req.score_threshold = f.score_threshold;
  VQI_ASSIGN_OR_RETURN(inspect::StatsReport r, ComputeSplitStats(ctx, req));
  VQI_RETURN_IF_ERROR(WriteFileAtomic(f.out, r.stats.ToJson().dump(1) + "\n"));
  for (const std::string& s : r.skipped) std::fprintf(stderr, "skipped: %s\n", s.c_str());
  std::fprintf(stderr, "wrote %s: %zu features over %d images of %s/%s/%s%s\n", f.out.c_str(),
               r.stats.features.size(), r.images, f.dataset.c_str(), f.split.c_str(),
               f.part.c_str(), f.model.empty() ? "" : " with the model's outputs");
  return Status::Ok();
}

const bool kRegistered = Register([](CLI::App& app, Context& ctx) {
  CLI::App& noun = Noun(app, "inspect", "On-device inspection helpers");
  auto f = std::make_shared<StatsFlags>();
  auto* stats = noun.add_subcommand(
      "stats", "training statistics for the drift monitor (vqi-inspect's Drift.StatsFile)");
  stats->add_option("--dataset", f->dataset, "dataset name")
      ->check(NonEmpty())
      ->capture_default_str();
  stats->add_option("--split", f->split, "split snapshot")
      ->check(NonEmpty())
      ->capture_default_str();
  stats->add_option("--part", f->part, "train | val | test")
      ->check(CLI::IsMember({"train", "val", "test"}))
      ->capture_default_str();
  stats->add_option("--model", f->model, "also the model's outputs (checkpoint or .onnx)");
  stats->add_option("--backend", f->backend, "ONNX backend: auto | opencv | onednn");
  stats->add_option("--score-threshold", f->score_threshold, "the device's ScoreThreshold")
      ->check(InRange(0.0f, 1.0f));
  stats->add_option("--out", f->out, "stats.json to write")->required()->check(NonEmpty());
  stats->callback([&ctx, f] { Exit(RunStats(ctx, *f)); });
});

}  // namespace
}  // namespace vqi::cli
