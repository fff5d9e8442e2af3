// vqi component create|list|show|verify: signed components in the component store
// (libs/component store + packaging, docs/design/component_store.md).
#include <stdlib.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "split_stats.h"
#include "vqi/base/file.h"
#include "vqi/base/json.h"
#include "vqi/component/from_model.h"
#include "vqi/component/package.h"
#include "vqi/inspect/drift.h"
#include "vqi/signing/encoding.h"

namespace vqi::cli {
namespace {

namespace comp = vqi::component;
namespace sg = vqi::signing;

struct ComponentFlags {
  std::string recipe, key, ref, filter, group, publisher;
  std::vector<std::string> artifacts, vars;
  bool json = false;
  // from-model: the drift statistics (stats.json)
  std::string stats, backend = "auto";
  bool no_stats = false;
  float score_threshold = 0.25f;
};

// A temporary folder (the computed stats.json), removed when the command ends.
struct ScratchDir {
  std::string path;
  Status Create() {
    std::string t = (std::filesystem::temp_directory_path() / "vqi-from-model-XXXXXX").string();
    if (::mkdtemp(t.data()) == nullptr)
      return Internal("creating a temporary folder " + t + ": " + std::strerror(errno));
    path = t;
    return Status::Ok();
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
};

// The stores of a vqi home, opened together.
struct Env {
  std::unique_ptr<comp::Store> store;
  std::unique_ptr<blob::BlobStore> blobs;
  std::unique_ptr<sg::KeyStore> keys;
  comp::PackageEnv Package() { return {store.get(), blobs.get(), keys.get()}; }
};

Result<Env> OpenEnv(const Context& ctx) {
  Env env;
  VQI_ASSIGN_OR_RETURN(env.store, comp::OpenSqliteStore(comp::ComponentsDbPath(ctx.home)));
  blob::BlobStoreOptions o;
  o.max_blob_bytes = comp::kMaxArtifactBytes;
  o.durability = blob::Durability::kBatch;
  VQI_ASSIGN_OR_RETURN(env.blobs, blob::BlobStore::Open(comp::ArtifactsDir(ctx.home), o));
  env.keys = std::make_unique<sg::KeyStore>(ctx.home);
  return env;
}

// "NAME@VERSION" (version required) or "NAME" (the latest version).
Result<std::pair<std::string, std::string>> ParseRef(comp::Store& store, const std::string& ref,
                                                     bool need_version) {
  const size_t at = ref.rfind('@');
  if (at != std::string::npos && at > 0 && at + 1 < ref.size())
    return std::pair{ref.substr(0, at), ref.substr(at + 1)};
  if (at != std::string::npos || need_version)
    return InvalidArgument("'" + ref + "': expected NAME@VERSION (e.g. com.acme.app@1.0.0)");
  VQI_ASSIGN_OR_RETURN(std::vector<std::string> versions, store.Versions(ref));
  return std::pair{ref, versions.back()};
}

Json ComponentJson(const comp::StoredComponent& c, bool full) {
  Json arts = Json::array();
  for (const comp::StoredArtifact& a : c.artifacts)
    arts.push_back({{"name", a.name},
                    {"uri", a.uri},
                    {"digest", a.digest},
                    {"size", a.size},
                    {"unarchive", a.unarchive}});
  Json j{{"name", c.name},     {"version", c.version}, {"publisher", c.publisher},
         {"key_id", c.key_id}, {"created", c.created}, {"artifacts", arts},
         {"source", c.source}};
  if (full) {
    auto recipe = ParseJson(c.recipe_json, "recipe");
    j["recipe"] = recipe.ok() ? *recipe : Json(c.recipe_json);
    j["recipe_text"] = c.recipe_text;
    j["signature"] = sg::ToHex(c.signature);
  }
  return j;
}

Status RunCreate(const Context& ctx, const ComponentFlags& f) {
  comp::CreateRequest req;
  req.recipe_file = f.recipe;
  req.artifact_files = f.artifacts;
  req.key_name = f.key;
  for (const std::string& v : f.vars) {
    const size_t eq = v.find('=');
    if (eq == std::string::npos || eq == 0)
      return InvalidArgument("--var '" + v + "': expected KEY=VALUE");
    if (!req.vars.emplace(v.substr(0, eq), v.substr(eq + 1)).second)
      return InvalidArgument("--var " + v.substr(0, eq) + " given twice");
  }
  VQI_ASSIGN_OR_RETURN(Env env, OpenEnv(ctx));
  VQI_ASSIGN_OR_RETURN(comp::PutOutcome put, comp::CreateComponent(env.Package(), req));
  const comp::StoredComponent& c = put.component;
  if (ctx.json || f.json) {
    Json j = ComponentJson(c, false);
    j["created_now"] = put.created;
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << (put.created ? "created " : "already stored, identical: ") << c.name << "@"
              << c.version << " (" << c.artifacts.size() << " artifacts, signed by key " << f.key
              << " " << c.key_id << ")\n";
  }
  return Status::Ok();
}

Status RunList(const Context& ctx, const ComponentFlags& f) {
  VQI_ASSIGN_OR_RETURN(Env env, OpenEnv(ctx));
  VQI_ASSIGN_OR_RETURN(std::vector<comp::ComponentSummary> list, env.store->List(f.filter));
  if (ctx.json || f.json) {
    Json out = Json::array();
    for (const comp::ComponentSummary& s : list)
      out.push_back({{"name", s.name},
                     {"latest", s.latest},
                     {"versions", s.versions},
                     {"publisher", s.publisher},
                     {"created", s.created}});
    std::cout << out.dump(2) << "\n";
    return Status::Ok();
  }
  if (list.empty()) {
    std::cout << "no components (create one with: vqi component create --recipe R --key K)\n";
    return Status::Ok();
  }
  std::printf("%-40s %-14s %-9s %s\n", "NAME", "LATEST", "VERSIONS", "PUBLISHER");
  for (const comp::ComponentSummary& s : list)
    std::printf("%-40s %-14s %-9zu %s\n", s.name.c_str(), s.latest.c_str(), s.versions.size(),
                s.publisher.c_str());
  return Status::Ok();
}

Status RunShow(const Context& ctx, const ComponentFlags& f) {
  VQI_ASSIGN_OR_RETURN(Env env, OpenEnv(ctx));
  VQI_ASSIGN_OR_RETURN(auto ref, ParseRef(*env.store, f.ref, false));
  VQI_ASSIGN_OR_RETURN(comp::StoredComponent c, env.store->Get(ref.first, ref.second));
  if (ctx.json || f.json) {
    std::cout << ComponentJson(c, true).dump(2) << "\n";
    return Status::Ok();
  }
  std::cout << c.name << "@" << c.version << "\n  publisher " << c.publisher << "\n  key id    "
            << c.key_id << "\n  created   " << c.created << "\n";
  if (!c.source.empty()) std::cout << "  source    " << c.source << "\n";
  std::cout << "  artifacts\n";
  for (const comp::StoredArtifact& a : c.artifacts)
    std::cout << "    " << a.name << "  " << a.size << " bytes  sha256 " << a.digest
              << (a.unarchive == "NONE" ? "" : "  unarchive " + a.unarchive) << "\n";
  auto recipe = ParseJson(c.recipe_json, "recipe");
  std::cout << "  recipe\n" << (recipe.ok() ? recipe->dump(2) : c.recipe_json) << "\n";
  return Status::Ok();
}

Status RunVerify(const Context& ctx, const ComponentFlags& f) {
  VQI_ASSIGN_OR_RETURN(Env env, OpenEnv(ctx));
  VQI_ASSIGN_OR_RETURN(auto ref, ParseRef(*env.store, f.ref, true));
  VQI_ASSIGN_OR_RETURN(sg::TrustedKeys trusted, env.keys->Trusted());
  VQI_RETURN_IF_ERROR(
      comp::VerifyComponent(*env.store, *env.blobs, ref.first, ref.second, trusted));
  VQI_ASSIGN_OR_RETURN(comp::StoredComponent c, env.store->Get(ref.first, ref.second));
  const std::string signer = trusted.count(c.key_id) ? trusted.at(c.key_id).name : "?";
  if (ctx.json || f.json)
    std::cout << Json{{"name", c.name}, {"version", c.version},
                      {"ok", true},     {"key_id", c.key_id},
                      {"key", signer},  {"artifacts", c.artifacts.size()}}
                     .dump(2)
              << "\n";
  else
    std::cout << "OK " << c.name << "@" << c.version << ": signature by key " << signer << " "
              << c.key_id << " matches; " << c.artifacts.size() << " artifacts re-hashed\n";
  return Status::Ok();
}

Status RunFromModel(const Context& ctx, const ComponentFlags& f) {
  auto reg = registry::OpenSqliteStore(registry::RegistryDbPath(ctx.home), {false, nullptr});
  if (!reg.ok() && reg.status().code() == StatusCode::kNotFound)
    return NotFound("no model registry in " + ctx.home +
                    " (register and approve a model first: vqi model register, vqi model approve)");
  if (!reg.ok()) return reg.status();
  VQI_ASSIGN_OR_RETURN(Env env, OpenEnv(ctx));
  comp::FromModelStats stats;
  if (!f.stats.empty()) {
    // Checked here (libs/component does not read the document): a file vqi-inspect refuses
    // would only fail on the device.
    VQI_ASSIGN_OR_RETURN(Json j, ReadJsonFile(f.stats));
    VQI_RETURN_IF_ERROR(inspect::TrainingStats::FromJson(j, f.stats).status());
    stats.file = f.stats;
  }
  ScratchDir tmp;
  if (f.stats.empty() && !f.no_stats) {
    stats.compute = [&](const registry::ModelVersion& v) -> Result<std::string> {
      VQI_RETURN_IF_ERROR(tmp.Create());
      return ModelVersionStats(ctx, v, *env.blobs, tmp.path, f.backend, f.score_threshold);
    };
  }
  VQI_ASSIGN_OR_RETURN(comp::PutOutcome put, comp::ComponentFromModel(env.Package(), **reg, f.group,
                                                                      f.key, f.publisher, stats));
  const comp::StoredComponent& c = put.component;
  if (ctx.json || f.json) {
    Json j = ComponentJson(c, false);
    j["created_now"] = put.created;
    std::cout << j.dump(2) << "\n";
  } else if (put.created) {
    std::cout << "created " << c.name << "@" << c.version << " from " << c.source << " ("
              << c.artifacts.size() << " artifacts, signed by key " << f.key << " " << c.key_id
              << ")\n";
  } else {
    std::cout << "up to date: " << c.name << "@" << c.version << " already packages " << c.source
              << " (the latest approved version); nothing created\n";
  }
  return Status::Ok();
}

const bool kRegistered = Register([](CLI::App& app, Context& ctx) {
  CLI::App& noun = Noun(app, "component", "Signed components (Greengrass v2 recipes)");
  auto f = std::make_shared<ComponentFlags>();

  auto* create = noun.add_subcommand("create", "Sign and store a component from a recipe");
  create->add_option("--recipe", f->recipe, "recipe file (JSON or YAML)")
      ->required()
      ->check(NonEmpty());
  create
      ->add_option("--artifact", f->artifacts,
                   "artifact file (repeatable); matched to the recipe's URIs by file name")
      ->check(NonEmpty());
  create->add_option("--var", f->vars, "KEY=VALUE placeholder in the recipe (repeatable)");
  create->add_option("--key", f->key, "publisher key that signs (vqi key create)")
      ->required()
      ->check(NonEmpty());
  create->add_flag("--json", f->json, "machine-readable output");
  create->callback([&ctx, f] { Exit(RunCreate(ctx, *f)); });

  auto* list = noun.add_subcommand("list", "List stored components");
  list->add_option("FILTER", f->filter, "only names containing this text");
  list->add_flag("--json", f->json, "machine-readable output");
  list->callback([&ctx, f] { Exit(RunList(ctx, *f)); });

  auto* show = noun.add_subcommand("show", "Show a stored component (latest version by default)");
  show->add_option("REF", f->ref, "NAME or NAME@VERSION")->required()->check(NonEmpty());
  show->add_flag("--json", f->json, "machine-readable output (recipe, signature)");
  show->callback([&ctx, f] { Exit(RunShow(ctx, *f)); });

  auto* verify = noun.add_subcommand(
      "verify", "Check a component's signature (trusted keys) and re-hash its artifacts");
  verify->add_option("REF", f->ref, "NAME@VERSION")->required()->check(NonEmpty());
  verify->add_flag("--json", f->json, "machine-readable output");
  verify->callback([&ctx, f] { Exit(RunVerify(ctx, *f)); });

  auto* from = noun.add_subcommand(
      "from-model", "Package the latest approved model of a group as vqi.model.<group>");
  from->add_option("--group", f->group, "model package group")->required()->check(NonEmpty());
  from->add_option("--key", f->key, "publisher key that signs")->required()->check(NonEmpty());
  from->add_option("--publisher", f->publisher, "ComponentPublisher (default: the key name)")
      ->check(NonEmpty());
  auto* stats_opt = from->add_option(
      "--stats", f->stats,
      "drift statistics to package as stats.json (vqi inspect stats); default: computed over "
      "the train part of the split the model's lineage names, with the model's outputs");
  stats_opt->check(CLI::ExistingFile);
  from->add_flag("--no-stats", f->no_stats, "package without stats.json")->excludes(stats_opt);
  from->add_option("--backend", f->backend, "ONNX backend computing the statistics")
      ->check(CLI::IsMember({"auto", "opencv", "onednn"}));
  from->add_option("--score-threshold", f->score_threshold,
                   "the devices' ScoreThreshold (statistics' box count)")
      ->check(InRange(0.0f, 1.0f));
  from->add_flag("--json", f->json, "machine-readable output");
  from->callback([&ctx, f] { Exit(RunFromModel(ctx, *f)); });
});

}  // namespace
}  // namespace vqi::cli
