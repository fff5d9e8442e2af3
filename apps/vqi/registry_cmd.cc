// `vqi model register|versions|show|approve|reject|latest|groups`: the model registry
// (libs/registry) in <home>/registry/registry.db with artifacts in <home>/artifacts/.
#include <pwd.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>

#include "cli.h"
#include "vqi/base/file.h"
#include "vqi/base/json.h"
#include "vqi/blob/blob_store.h"
#include "vqi/registry/register.h"
#include "vqi/registry/store.h"

namespace vqi::registry {
namespace {

constexpr int64_t kMaxVersionFlag = 1'000'000'000'000;

struct Flags {
  std::string group, description, by, reason;
  int64_t version = 0;
  // register
  RegisterRequest q;
  double min_map50 = -1;  // < 0: no gate
  std::string train_config_file;
};

// --by, else $USER, else the login name of the process's user.
Result<std::string> Actor(const std::string& by) {
  if (!by.empty()) return by;
  const char* user = std::getenv("USER");
  if (user && *user) return std::string(user);
  if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_name && *pw->pw_name)
    return std::string(pw->pw_name);
  return InvalidArgument("--by is required ($USER is not set)");
}

Result<std::unique_ptr<Store>> OpenStore(const cli::Context& ctx, bool create) {
  auto s = OpenSqliteStore(RegistryDbPath(ctx.home), {create, nullptr});
  if (!s.ok() && s.status().code() == StatusCode::kNotFound)
    return NotFound("no model registry in " + ctx.home +
                    " yet (register a model with `vqi model register`)");
  return s;
}

std::string Num(const Json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number()) return "-";
  char b[32];
  std::snprintf(b, sizeof b, "%.4f", j[key].get<double>());
  return b;
}

std::string Short(std::string s, size_t n) { return s.size() > n ? s.substr(0, n) + "…" : s; }

void PrintVersion(const ModelVersion& v) {
  std::printf("model %s  %s (since %s)\n", v.Ref().c_str(), ApprovalStatusName(v.status),
              v.status_changed.c_str());
  if (!v.description.empty()) std::printf("description  %s\n", v.description.c_str());
  std::printf("created      %s by %s\n", v.created.c_str(), v.created_by.c_str());
  std::printf("metrics      mAP50 %s  mAP50-95 %s  P %s  R %s", Num(v.metrics, "map50").c_str(),
              Num(v.metrics, "map50_95").c_str(), Num(v.metrics, "precision").c_str(),
              Num(v.metrics, "recall").c_str());
  if (v.metrics.contains("source") && v.metrics["source"].is_object()) {
    const Json& s = v.metrics["source"];
    if (s.contains("part"))
      std::printf("  (on %s/%s part %s)", s.value("dataset", "").c_str(),
                  s.value("split", "").c_str(), s.value("part", "").c_str());
    else if (s.contains("images"))
      std::printf("  (on %s)", s.value("images", "").c_str());
  }
  std::printf("\n");
  const Lineage& l = v.lineage;
  std::printf("lineage      dataset %s  split %s  split digest %s\n",
              l.dataset.empty() ? "-" : l.dataset.c_str(), l.split.empty() ? "-" : l.split.c_str(),
              l.split_digest.empty() ? "-" : Short(l.split_digest, 16).c_str());
  std::printf("             source revision %s  parent %s  run %s\n", l.source_revision.c_str(),
              l.parent.empty() ? "-" : l.parent.c_str(), l.run_id.empty() ? "-" : l.run_id.c_str());
  if (!l.train_config.empty())
    std::printf("             train config %s\n", Short(l.train_config.dump(), 160).c_str());
  std::printf("artifacts\n");
  for (const ArtifactRef& a : v.artifacts)
    std::printf("  %-18s %12lld bytes  sha256:%s  %s\n", a.name.c_str(),
                static_cast<long long>(a.size), a.digest.c_str(), a.media_type.c_str());
}

void PrintHistory(const std::vector<ApprovalEvent>& h) {
  std::printf("history\n");
  for (const ApprovalEvent& e : h)
    std::printf("  %s  %s → %s  by %s%s%s\n", e.time.c_str(), e.from.c_str(),
                ApprovalStatusName(e.to), e.actor.c_str(), e.reason.empty() ? "" : ": ",
                e.reason.c_str());
}

Status RunRegister(const cli::Context& ctx, Flags& f) {
  RegisterRequest q = f.q;
  q.group = f.group;
  q.description = f.description;
  VQI_ASSIGN_OR_RETURN(q.created_by, Actor(f.by));
  if (f.min_map50 >= 0) q.min_map50 = f.min_map50;
  if (!f.train_config_file.empty()) {
    VQI_ASSIGN_OR_RETURN(std::string text,
                         ReadFile(f.train_config_file, kMaxTrainConfigJsonBytes + 1));
    VQI_ASSIGN_OR_RETURN(q.train_config, ParseJson(text, f.train_config_file));
    if (!q.train_config.is_object())
      return InvalidArgument("--train-config " + f.train_config_file + ": not a JSON object");
  }
  // The gate and every check first: a refused model leaves the home untouched.
  VQI_ASSIGN_OR_RETURN(PreparedRegistration p, PrepareRegistration(q));
  VQI_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, /*create=*/true));
  VQI_ASSIGN_OR_RETURN(
      auto blobs,
      blob::BlobStore::Open(ArtifactsDir(ctx.home), {kMaxArtifactBytes, blob::Durability::kBatch}));
  VQI_ASSIGN_OR_RETURN(ModelVersion v, CommitRegistration(*store, *blobs, p));
  if (ctx.json) {
    std::cout << ToJson(v).dump(1) << "\n";
    return Status::Ok();
  }
  std::printf("registered model %s (%s): mAP50 %s", v.Ref().c_str(), ApprovalStatusName(v.status),
              Num(v.metrics, "map50").c_str());
  if (q.min_map50) std::printf(" (gate %.4g)", *q.min_map50);
  std::printf("\n");
  for (const ArtifactRef& a : v.artifacts)
    std::printf("  %-18s %12lld bytes  sha256:%s\n", a.name.c_str(), static_cast<long long>(a.size),
                a.digest.c_str());
  std::printf("approve it with: vqi model approve --group %s --version %lld\n", v.group.c_str(),
              static_cast<long long>(v.version));
  return Status::Ok();
}

Status RunVersions(const cli::Context& ctx, const Flags& f) {
  VQI_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, false));
  VQI_ASSIGN_OR_RETURN(std::vector<ModelVersion> list, store->List(f.group));
  if (ctx.json) {
    OrderedJson j = OrderedJson::array();
    for (const ModelVersion& v : list) j.push_back(ToJson(v));
    std::cout << j.dump(1) << "\n";
    return Status::Ok();
  }
  std::printf("%-8s %-22s %-8s %-9s %-21s %s\n", "version", "status", "mAP50", "mAP50-95",
              "created", "by");
  for (const ModelVersion& v : list)
    std::printf("%-8lld %-22s %-8s %-9s %-21s %s\n", static_cast<long long>(v.version),
                ApprovalStatusName(v.status), Num(v.metrics, "map50").c_str(),
                Num(v.metrics, "map50_95").c_str(), v.created.c_str(), v.created_by.c_str());
  if (list.empty()) std::printf("(group '%s' has no versions)\n", f.group.c_str());
  return Status::Ok();
}

Status RunShow(const cli::Context& ctx, const Flags& f) {
  VQI_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, false));
  VQI_ASSIGN_OR_RETURN(ModelVersion v, store->Get(f.group, f.version));
  VQI_ASSIGN_OR_RETURN(std::vector<ApprovalEvent> h, store->History(f.group, f.version));
  if (ctx.json) {
    OrderedJson j = ToJson(v);
    j["history"] = OrderedJson::array();
    for (const ApprovalEvent& e : h) j["history"].push_back(ToJson(e));
    std::cout << j.dump(1) << "\n";
    return Status::Ok();
  }
  PrintVersion(v);
  PrintHistory(h);
  return Status::Ok();
}

Status RunDecide(const cli::Context& ctx, const Flags& f, ApprovalStatus to) {
  VQI_ASSIGN_OR_RETURN(std::string actor, Actor(f.by));
  VQI_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, false));
  VQI_ASSIGN_OR_RETURN(ApprovalEvent e,
                       store->SetApproval(f.group, f.version, {to, actor, f.reason}));
  if (ctx.json) {
    std::cout << ToJson(e).dump(1) << "\n";
    return Status::Ok();
  }
  std::printf("model %s/%lld: %s → %s by %s at %s\n", e.group.c_str(),
              static_cast<long long>(e.version), e.from.c_str(), ApprovalStatusName(e.to),
              e.actor.c_str(), e.time.c_str());
  return Status::Ok();
}

Status RunLatest(const cli::Context& ctx, const Flags& f) {
  VQI_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, false));
  VQI_ASSIGN_OR_RETURN(ModelVersion v, store->LatestApproved(f.group));
  if (ctx.json) {
    std::cout << ToJson(v).dump(1) << "\n";
    return Status::Ok();
  }
  PrintVersion(v);
  return Status::Ok();
}

Status RunGroups(const cli::Context& ctx) {
  VQI_ASSIGN_OR_RETURN(auto store, OpenStore(ctx, false));
  VQI_ASSIGN_OR_RETURN(std::vector<Group> groups, store->Groups());
  if (ctx.json) {
    OrderedJson j = OrderedJson::array();
    for (const Group& g : groups) j.push_back(ToJson(g));
    std::cout << j.dump(1) << "\n";
    return Status::Ok();
  }
  std::printf("%-24s %-9s %-16s %-21s %s\n", "group", "versions", "latest approved", "created",
              "description");
  for (const Group& g : groups)
    std::printf("%-24s %-9lld %-16s %-21s %s\n", g.name.c_str(), static_cast<long long>(g.versions),
                g.latest_approved ? std::to_string(g.latest_approved).c_str() : "-",
                g.created.c_str(), Short(g.description, 60).c_str());
  return Status::Ok();
}

const bool kRegistered = cli::Register([](CLI::App& app, cli::Context& ctx) {
  static Flags f;
  CLI::App& model = cli::Noun(app, "model", "Train, evaluate and run detectors");
  auto group = [](CLI::App* c) {
    c->add_option("--group", f.group, "model package group")->required()->check(cli::NonEmpty());
  };
  auto version = [](CLI::App* c) {
    c->add_option("--version", f.version, "version number in the group")
        ->required()
        ->check(cli::InRange<int64_t>(1, kMaxVersionFlag));
  };

  auto* reg = model.add_subcommand(
      "register", "Register a model version (metrics from its eval report; --min-map50 gate)");
  group(reg);
  reg->add_option("--model", f.q.model, "ONNX model file (fp32)")
      ->required()
      ->check(cli::NonEmpty());
  reg->add_option("--int8", f.q.model_int8, "int8 ONNX file (vqi model quantize)")
      ->check(cli::NonEmpty());
  reg->add_option("--checkpoint", f.q.checkpoint, "training checkpoint (.safetensors)")
      ->check(cli::NonEmpty());
  reg->add_option("--report", f.q.report, "eval report (vqi model eval --report R.json)")
      ->required()
      ->check(cli::NonEmpty());
  reg->add_option("--min-map50", f.min_map50,
                  "refuse to register when the report's mAP50 is below this")
      ->check(cli::InRange(0.0, 1.0));
  reg->add_option("--run", f.q.run_dir,
                  "training output folder (lineage from its checkpoint, stored too)")
      ->check(cli::NonEmpty());
  reg->add_option("--run-checkpoint", f.q.run_checkpoint,
                  "which checkpoint of --run (without --checkpoint): best, last or smoothed")
      ->capture_default_str()
      ->check(CLI::IsMember(RunCheckpointChoices()));
  reg->add_option("--dataset", f.q.dataset, "lineage: dataset trained on");
  reg->add_option("--split", f.q.split, "lineage: split snapshot trained on");
  reg->add_option("--split-digest", f.q.split_digest, "lineage: the split snapshot's digest");
  reg->add_option("--train-config", f.train_config_file, "lineage: training configuration (JSON)")
      ->check(cli::NonEmpty());
  reg->add_option("--source-revision", f.q.source_revision,
                  "lineage: git commit of the training code (default: from the checkpoint, "
                  "else unknown)");
  reg->add_option("--parent", f.q.parent, "lineage: group/version this was fine-tuned from");
  reg->add_option("--description", f.description, "what this version is");
  reg->add_option("--group-description", f.q.group_description,
                  "what the group is (when this registration creates it)");
  reg->add_option("--by", f.by, "who registers it (default $USER)");
  reg->callback([&ctx] { cli::Exit(RunRegister(ctx, f)); });

  auto* versions = model.add_subcommand("versions", "List the versions of a model group");
  group(versions);
  versions->callback([&ctx] { cli::Exit(RunVersions(ctx, f)); });

  auto* show = model.add_subcommand("show", "One model version with its approval history");
  group(show);
  version(show);
  show->callback([&ctx] { cli::Exit(RunShow(ctx, f)); });

  auto* approve = model.add_subcommand("approve", "Approve a model version");
  group(approve);
  version(approve);
  approve->add_option("--by", f.by, "who approves (default $USER)");
  approve->add_option("--reason", f.reason, "why");
  approve->callback([&ctx] { cli::Exit(RunDecide(ctx, f, ApprovalStatus::kApproved)); });

  auto* reject = model.add_subcommand("reject", "Reject (or revoke the approval of) a version");
  group(reject);
  version(reject);
  reject->add_option("--by", f.by, "who rejects (default $USER)");
  reject->add_option("--reason", f.reason, "why (required)")->required();
  reject->callback([&ctx] { cli::Exit(RunDecide(ctx, f, ApprovalStatus::kRejected)); });

  auto* latest = model.add_subcommand("latest", "The latest approved version of a group");
  group(latest);
  latest->callback([&ctx] { cli::Exit(RunLatest(ctx, f)); });

  auto* groups = model.add_subcommand("groups", "List the model groups");
  groups->callback([&ctx] { cli::Exit(RunGroups(ctx)); });
});

}  // namespace
}  // namespace vqi::registry
