// `vqi store verify|gc`: the one artifact blob store <home>/artifacts/ across every store that
// references it (libs/registry artifacts.h).
#include <cstdio>
#include <iostream>

#include "cli.h"
#include "vqi/base/json.h"
#include "vqi/blob/blob_store.h"
#include "vqi/component/from_model.h"
#include "vqi/registry/artifacts.h"
#include "vqi/server/uploads_source.h"

namespace vqi::registry {
namespace {

// Every store that may reference <home>/artifacts: the registry, the component store, and
// `vqi server`'s log of fresh uploads (kept for a day so they can be registered).
std::vector<KnownSource> KnownSources() {
  return {RegistrySource(), component::ComponentsSource(), server::UploadsSource()};
}

Result<std::unique_ptr<blob::BlobStore>> OpenArtifacts(const cli::Context& ctx) {
  return blob::BlobStore::Open(ArtifactsDir(ctx.home), {kMaxArtifactBytes});
}

std::vector<ReferenceSource*> Raw(const std::vector<std::unique_ptr<ReferenceSource>>& v) {
  std::vector<ReferenceSource*> out;
  for (const auto& s : v) out.push_back(s.get());
  return out;
}

Status RunVerify(const cli::Context& ctx) {
  VQI_ASSIGN_OR_RETURN(auto blobs, OpenArtifacts(ctx));
  // Verify reads what it can: a source it cannot read is reported, not fatal.
  std::vector<std::unique_ptr<ReferenceSource>> sources;
  std::vector<std::string> skipped;
  for (const KnownSource& k : KnownSources()) {
    auto one = OpenReferenceSources(ctx.home, {k});
    if (!one.ok()) {
      skipped.push_back(one.status().message());
      continue;
    }
    for (auto& s : *one) sources.push_back(std::move(s));
  }
  VQI_ASSIGN_OR_RETURN(ArtifactCheck c, VerifyArtifacts(*blobs, Raw(sources)));
  if (ctx.json) {
    OrderedJson j;
    j["blobs"] = c.blobs;
    j["bytes"] = c.bytes;
    j["corrupt"] = c.corrupt;
    j["missing"] = c.missing;
    j["strays"] = c.strays;
    j["skipped_sources"] = skipped;
    j["ok"] = c.ok();
    std::cout << j.dump(1) << "\n";
  } else {
    std::printf("checked %lld blobs (%lld bytes) in %s\n", static_cast<long long>(c.blobs),
                static_cast<long long>(c.bytes), blobs->dir().c_str());
    for (const std::string& s : c.corrupt) std::printf("corrupt: %s\n", s.c_str());
    for (const std::string& s : c.missing) std::printf("missing: %s\n", s.c_str());
    for (const std::string& s : c.strays) std::printf("stray file (left alone): %s\n", s.c_str());
    for (const std::string& s : skipped)
      std::fprintf(stderr, "warning: not checked: %s\n", s.c_str());
  }
  if (!c.ok())
    return DataLoss(std::to_string(c.corrupt.size()) + " corrupt and " +
                    std::to_string(c.missing.size()) + " missing blobs in " + blobs->dir());
  return Status::Ok();
}

Status RunGc(const cli::Context& ctx, bool dry_run) {
  VQI_ASSIGN_OR_RETURN(auto blobs, OpenArtifacts(ctx));
  // The lock first, then the sources: a registration creating a database meanwhile is seen.
  VQI_ASSIGN_OR_RETURN(ArtifactLock lock, ArtifactLock::Exclusive(blobs->dir()));
  auto sources = OpenReferenceSources(ctx.home, KnownSources());
  if (!sources.ok())
    return sources.status().WithContext(
        "not collecting garbage (never delete what might be "
        "referenced)");
  VQI_ASSIGN_OR_RETURN(ArtifactGc gc, CollectArtifacts(*blobs, Raw(*sources), dry_run, lock));
  if (ctx.json) {
    OrderedJson j;
    j["dry_run"] = gc.dry_run;
    j["referenced"] = gc.referenced;
    j["kept"] = gc.kept;
    j["removed"] = gc.removed;
    j["bytes_freed"] = gc.bytes_freed;
    j["temp_removed"] = gc.temp_removed;
    j["removed_digests"] = gc.removed_digests;
    std::cout << j.dump(1) << "\n";
    return Status::Ok();
  }
  for (const std::string& d : gc.removed_digests)
    std::printf("%s %s\n", dry_run ? "would remove" : "removed", d.c_str());
  std::printf("%s %lld unreferenced blobs (%lld bytes), kept %lld (%lld digests referenced)\n",
              dry_run ? "would remove" : "removed", static_cast<long long>(gc.removed),
              static_cast<long long>(gc.bytes_freed), static_cast<long long>(gc.kept),
              static_cast<long long>(gc.referenced));
  return Status::Ok();
}

const bool kRegistered = cli::Register([](CLI::App& app, cli::Context& ctx) {
  static bool dry_run = false;
  CLI::App& store =
      cli::Noun(app, "store", "Check and clean the artifact store (<home>/artifacts)");
  auto* verify = store.add_subcommand(
      "verify", "Re-hash every artifact blob and check every referenced one exists");
  verify->callback([&ctx] { cli::Exit(RunVerify(ctx)); });
  auto* gc = store.add_subcommand("gc", "Delete artifact blobs no store references");
  gc->add_flag("--dry-run", dry_run, "list what would be deleted, delete nothing");
  gc->callback([&ctx] { cli::Exit(RunGc(ctx, dry_run)); });
});

}  // namespace
}  // namespace vqi::registry
