// `vqi dataset import|export|stats|split|synth|unlabeled|remove|check`: thin wrappers over
// libs/dataset. Only import and synth create a dataset; every other verb on a name that does
// not exist fails with NotFound listing the existing ones.
#include <cstdio>
#include <iostream>
#include <limits>

#include "cli.h"
#include "vqi/base/json.h"
#include "vqi/dataset/export.h"
#include "vqi/dataset/import.h"
#include "vqi/dataset/limits.h"
#include "vqi/dataset/pool_json.h"
#include "vqi/dataset/split.h"
#include "vqi/dataset/stats.h"
#include "vqi/dataset/store.h"
#include "vqi/dataset/synth_io.h"
#include "vqi/dataset/text.h"

namespace vqi::dataset {
namespace {

struct Flags {
  std::string dataset = "default";
  // import
  std::string path, format = "auto", classes, labels, images;
  bool strict = false;
  // export
  std::string out, split;
  // split
  std::string split_name = "default", ratios = "0.7,0.15,0.15";
  uint64_t seed = 42;
  bool replace = false;
  // synth
  int count = 100;
  SynthOptions synth;
  std::string synth_out;
  // unlabeled
  int limit = 0;
  std::string thing;
  // remove
  std::vector<std::string> remove_keys;
  bool force = false;
};

// `create`: only the verbs that bring data in may create a dataset.
Result<std::unique_ptr<Store>> OpenStore(const cli::Context& ctx, const Flags& f,
                                         bool create = false) {
  return Store::Open(ctx.home, f.dataset, create);
}

// Names are shown as valid UTF-8 (a legacy non-UTF-8 name with %XX for the bad bytes).
std::string EscapeName(const std::string& name) { return EscapeNonUtf8(name); }

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size() && !s.empty()) {
    const size_t comma = s.find(',', start);
    out.push_back(s.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

Json ReportJson(const ImportReport& r) {
  Json errors = Json::array();
  for (const ImportIssue& e : r.errors)
    errors.push_back({{"file", e.file}, {"line", e.line}, {"message", e.message}});
  return {{"format", r.format},         {"images", r.images},
          {"new_images", r.new_images}, {"labeled", r.labeled},
          {"boxes", r.boxes},           {"empty_labels", r.empty_labels},
          {"unlabeled", r.unlabeled},   {"new_label_events", r.new_label_events},
          {"errors", errors},           {"committed", r.committed}};
}

Status RunImport(const cli::Context& ctx, const Flags& f) {
  VQI_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, f, /*create=*/true));
  ImportOptions o;
  o.strict = f.strict;
  o.class_names = SplitComma(f.classes);
  o.images_dir = f.images;
  if (f.path.empty() == f.labels.empty())
    return InvalidArgument("give either a folder/file to import or --labels (not both)");
  VQI_ASSIGN_OR_RETURN(ImportReport r,
                       Import(*store, f.path.empty() ? f.labels : f.path, f.format, o));
  if (ctx.json) {
    std::cout << ReportJson(r).dump(2) << "\n";
  } else {
    for (const ImportIssue& e : r.errors) std::cout << "error: " << e.ToString() << "\n";
    std::cout << "imported (" << r.format << "): " << r.Summary() << "\n";
  }
  if (!r.committed)
    return InvalidArgument("--strict: " + std::to_string(r.errors.size()) +
                           " errors, nothing imported");
  return Status::Ok();
}

Status RunExport(const cli::Context& ctx, const Flags& f) {
  VQI_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, f));
  ExportOptions o;
  o.split = f.split;
  VQI_ASSIGN_OR_RETURN(ExportReport r, Export(*store, f.format, f.out, o));
  if (ctx.json)
    std::cout << Json{{"images", r.images}, {"boxes", r.boxes}, {"out", f.out}}.dump(2) << "\n";
  else
    std::cout << "exported " << r.images << " images, " << r.boxes << " boxes as " << f.format
              << " to " << f.out << "\n";
  return Status::Ok();
}

Status RunStats(const cli::Context& ctx, const Flags& f) {
  VQI_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, f));
  VQI_ASSIGN_OR_RETURN(DatasetStats st, ComputeStats(*store));
  std::cout << (ctx.json ? st.ToJson().dump(2) + "\n" : st.ToText());
  return Status::Ok();
}

Status RunSplit(const cli::Context& ctx, const Flags& f) {
  VQI_ASSIGN_OR_RETURN(SplitRatios ratios, ParseRatios(f.ratios));
  VQI_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, f));
  VQI_ASSIGN_OR_RETURN(SplitInfo info, store->CreateSplit(f.split_name, ratios, f.seed, f.replace));
  if (ctx.json) {
    std::cout << Json{{"name", info.name},   {"seed", info.seed}, {"digest", info.digest},
                      {"train", info.train}, {"val", info.val},   {"test", info.test}}
                     .dump(2)
              << "\n";
  } else {
    std::cout << "split '" << info.name << "' (seed " << info.seed << "): train " << info.train
              << ", val " << info.val << ", test " << info.test << " images; digest " << info.digest
              << "\n";
  }
  return Status::Ok();
}

Status RunSynth(const cli::Context& ctx, const Flags& f) {
  SynthRunReport r;
  if (!f.synth_out.empty()) {
    VQI_ASSIGN_OR_RETURN(r, SynthesizeToYolo(f.synth_out, f.synth, f.count));
  } else {
    VQI_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, f, /*create=*/true));
    VQI_ASSIGN_OR_RETURN(r, SynthesizeToStore(*store, f.synth, f.count));
  }
  const std::string where = f.synth_out.empty() ? "dataset '" + f.dataset + "'" : f.synth_out;
  if (ctx.json)
    std::cout << Json{{"images", r.images},
                      {"new_images", r.new_images},
                      {"boxes", r.boxes},
                      {"defective", r.defective}}
                     .dump(2)
              << "\n";
  else
    std::cout << "synthesized " << r.images << " tags (" << r.new_images << " new, " << r.defective
              << " with scratches, " << r.boxes << " boxes) into " << where << "\n";
  return Status::Ok();
}

// The unlabeled pool with where each image came from (uploads: device and model version).
Status RunUnlabeled(const cli::Context& ctx, const Flags& f) {
  if (f.limit < 0) return InvalidArgument("--limit " + std::to_string(f.limit) + " must be >= 0");
  VQI_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, f));
  VQI_ASSIGN_OR_RETURN(PoolPage page, store->UnlabeledPoolPage({f.thing, f.limit}));
  const std::vector<PoolImage>& pool = page.images;
  const int64_t total = page.total;
  const size_t n = pool.size();
  if (ctx.json) {
    Json arr = Json::array();
    for (size_t i = 0; i < n; ++i) arr.push_back(PoolImageToJson(pool[i], /*with_path=*/true));
    std::cout << Json{{"unlabeled", total}, {"images", arr}}.dump(2) << "\n";
    return Status::Ok();
  }
  for (size_t i = 0; i < n; ++i) {
    const PoolImage& p = pool[i];
    std::cout << p.sample.image_id.substr(0, 12) << "  " << p.sample.name;
    if (!p.origins.empty()) {
      // The latest origin; the others are counted (all of them: --json).
      const ImageOrigin& o = p.origins.back();
      std::cout << "  from " << o.thing << " (" << o.component << ", model "
                << (o.model_name.empty() ? "?" : o.model_name) << " "
                << (o.model_version.empty() ? "?" : o.model_version);
      if (o.best_score >= 0) {
        char score[32];
        std::snprintf(score, sizeof score, ", best score %.3f", o.best_score);
        std::cout << score;
      }
      std::cout << ", " << o.received << ")";
      if (p.origins.size() > 1) std::cout << " +" << p.origins.size() - 1 << " more";
    }
    std::cout << "\n";
  }
  std::cout << total << " unlabeled images" << (f.thing.empty() ? "" : " from " + f.thing)
            << (static_cast<int64_t>(n) < total ? " (list truncated)" : "") << "\n";
  return Status::Ok();
}

// Resolves every key first (nothing is removed if one is unknown or ambiguous), then removes.
Status RunRemove(const cli::Context& ctx, const Flags& f) {
  if (f.remove_keys.empty()) return InvalidArgument("name the images to remove (id or name)");
  VQI_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, f));
  std::vector<std::string> ids;
  for (const std::string& key : f.remove_keys) {
    VQI_ASSIGN_OR_RETURN(std::vector<ImageRecord> found, store->FindImages(key));
    if (found.empty())
      return NotFound("no image '" + key + "' in dataset '" + f.dataset +
                      "' (give a full id, an id prefix of 6+ hex digits, or a file name)");
    if (found.size() > 1) {
      std::string list;
      for (const ImageRecord& r : found)
        list += "\n  " + r.image_id.substr(0, 16) + "  " + EscapeName(r.name);
      return InvalidArgument("'" + key + "' matches " + std::to_string(found.size()) +
                             " images; give one id:" + list);
    }
    ids.push_back(found[0].image_id);
  }
  Json removed = Json::array();
  for (const std::string& id : ids) {
    VQI_ASSIGN_OR_RETURN(RemovedImage r, store->RemoveImage(id, f.force));
    removed.push_back({{"image_id", id},
                       {"name", EscapeName(r.image.name)},
                       {"label_events", r.label_events},
                       {"splits", r.splits}});
    if (!ctx.json) {
      std::cout << "removed " << id.substr(0, 12) << "  " << EscapeName(r.image.name) << " ("
                << r.label_events << " label events";
      if (!r.splits.empty()) std::cout << "; dropped from " << r.splits.size() << " split(s)";
      std::cout << ")\n";
    }
  }
  if (ctx.json) std::cout << Json{{"removed", removed}}.dump(2) << "\n";
  return Status::Ok();
}

Status RunCheck(const cli::Context& ctx, const Flags& f) {
  VQI_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, f));
  VQI_ASSIGN_OR_RETURN(StoreCheck c, store->Check());
  if (ctx.json) {
    std::cout << Json{{"images", c.images}, {"blobs", c.blobs}, {"problems", c.problems}}.dump(2)
              << "\n";
  } else {
    for (const std::string& p : c.problems) std::cout << "problem: " << p << "\n";
    std::cout << c.images << " images, " << c.blobs << " blobs re-hashed, " << c.problems.size()
              << " problems\n";
  }
  if (!c.ok())
    return DataLoss("dataset '" + f.dataset + "': " + std::to_string(c.problems.size()) +
                    " problems");
  return Status::Ok();
}

const bool kRegistered = cli::Register([](CLI::App& app, cli::Context& ctx) {
  static Flags f;
  CLI::App& ds = cli::Noun(app, "dataset", "Import, inspect, split, export and synthesize data");
  auto dataset_flag = [](CLI::App* c) {
    c->add_option("--dataset", f.dataset, "dataset name in the vqi home")
        ->capture_default_str()
        ->check(cli::NonEmpty());
  };

  auto* imp = ds.add_subcommand("import", "Import a Ground-Truth CSV, YOLO or COCO dataset");
  imp->add_option("path", f.path, "folder or file to import");
  imp->add_option("--labels", f.labels,
                  "the labels file (labels.csv, annotations.json, data.yaml)");
  imp->add_option("--images", f.images, "folder holding the images (Ground-Truth, COCO)");
  imp->add_option("--format", f.format, "auto|groundtruth|yolo|coco")->capture_default_str();
  imp->add_flag("--strict", f.strict, "any bad record is fatal and nothing is written");
  imp->add_option("--classes", f.classes, "Ground-Truth class names for ids 0.., comma-separated");
  dataset_flag(imp);
  imp->callback([&ctx] { cli::Exit(RunImport(ctx, f)); });

  auto* exp = ds.add_subcommand("export", "Export the labeled images as YOLO or COCO");
  exp->add_option("--format", f.format, "yolo|coco")->required();
  exp->add_option("--out", f.out, "output folder")->required()->check(cli::NonEmpty());
  exp->add_option("--split", f.split, "export this split snapshot, one folder per part");
  dataset_flag(exp);
  exp->callback([&ctx] { cli::Exit(RunExport(ctx, f)); });

  auto* stats = ds.add_subcommand("stats", "Counts, box-size distribution, per-split counts");
  dataset_flag(stats);
  stats->callback([&ctx] { cli::Exit(RunStats(ctx, f)); });

  auto* split = ds.add_subcommand("split", "Create a grouped, seeded train/val/test snapshot");
  split->add_option("--name", f.split_name, "snapshot name")
      ->capture_default_str()
      ->check(cli::NonEmpty());
  split->add_option("--ratios", f.ratios, "train,val,test")->capture_default_str();
  split->add_option("--seed", f.seed, "random seed")->capture_default_str();
  split->add_flag("--replace", f.replace, "replace a snapshot of the same name");
  dataset_flag(split);
  split->callback([&ctx] { cli::Exit(RunSplit(ctx, f)); });

  auto* synth = ds.add_subcommand("synth", "Generate synthetic scratched metal tags");
  synth->add_option("--count", f.count, "number of images")
      ->capture_default_str()
      ->check(cli::InRange(0, kMaxSynthCount));
  synth->add_option("--seed", f.synth.seed, "random seed")->capture_default_str();
  synth->add_option("--width", f.synth.width, "image width")
      ->capture_default_str()
      ->check(cli::InRange(64, 8192));
  synth->add_option("--height", f.synth.height, "image height")
      ->capture_default_str()
      ->check(cli::InRange(64, 8192));
  synth->add_option("--defect-probability", f.synth.defect_probability, "chance a tag is scratched")
      ->capture_default_str()
      ->check(cli::InRange(0.0, 1.0));
  synth->add_option("--max-scratches", f.synth.max_scratches, "scratches per scratched tag")
      ->capture_default_str()
      ->check(cli::InRange(1, kMaxSynthScratches));
  synth->add_option("--out", f.synth_out, "write a YOLO folder here instead of the store");
  dataset_flag(synth);
  synth->callback([&ctx] { cli::Exit(RunSynth(ctx, f)); });

  auto* rm = ds.add_subcommand("remove", "Remove images (with their label history) by id or name");
  rm->add_option("images", f.remove_keys, "image ids, id prefixes (6+ hex digits) or file names")
      ->required();
  rm->add_flag("--force", f.force, "also drop the images from split snapshots that hold them");
  dataset_flag(rm);
  rm->callback([&ctx] { cli::Exit(RunRemove(ctx, f)); });

  auto* chk = ds.add_subcommand("check", "Check every image's blob is present and intact");
  dataset_flag(chk);
  chk->callback([&ctx] { cli::Exit(RunCheck(ctx, f)); });

  auto* unl = ds.add_subcommand(
      "unlabeled",
      "List images without an approved label, with where uploads came from (device, model)");
  unl->add_option("--limit", f.limit, "list at most this many (0 = all)")
      ->check(cli::InRange(0, std::numeric_limits<int>::max()));
  unl->add_option("--thing", f.thing, "only images uploaded by this device");
  dataset_flag(unl);
  unl->callback([&ctx] { cli::Exit(RunUnlabeled(ctx, f)); });
});

}  // namespace
}  // namespace vqi::dataset
